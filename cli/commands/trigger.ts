import { parseLosslessJson } from "../../src/service/lossless-json";
import { CliError, flagReader, type ParsedArgs } from "../args";
import { callNode, resolveNode } from "../node-client";
import type { Output } from "../output";

export const TRIGGER_HELP = `wavs-edge trigger --service-id ID [--workflow-id default] [data] [--count N] [--wait]

Fires a workflow by hand through the node's POST /dev/triggers (WAVS's simulated trigger).
Data, one of (default: empty raw bytes):
  --input TEXT        raw bytes: the UTF-8 of TEXT (e.g. '{"x":7}')
  --input-hex 0x…     raw bytes, hex
  --data JSON         WAVS's TriggerData JSON, e.g. '{"Cron":{"trigger_time":1763900000000000000}}'
--count N             run it N times (1–1000)
--wait                answer once every run has finished (the node waits at most 30 s)`;

/** `trigger`: POST /dev/triggers with a manual trigger; prints the enqueued event keys. @throws CliError */
export async function triggerCommand(args: ParsedArgs, out: Output): Promise<void> {
  const flags = flagReader(args);
  const node = await resolveNode(flags);
  const serviceId = flags.req("service-id", "64 hex digits; see `wavs-edge tasks` or GET /services");
  const workflowId = flags.str("workflow-id") ?? "default";
  const input = flags.str("input");
  const inputHex = flags.str("input-hex");
  const dataJson = flags.str("data");
  const countText = flags.str("count") ?? "1";
  const wait = flags.bool("wait");
  flags.done();

  if ([input, inputHex, dataJson].filter((v) => v !== undefined).length > 1) {
    throw new CliError("pass at most one of --input, --input-hex and --data", 2);
  }
  if (!/^\d+$/.test(countText)) throw new CliError("--count is a positive integer", 2);
  let data: string;
  if (dataJson !== undefined) {
    try {
      parseLosslessJson(dataJson);
    } catch {
      throw new CliError("--data is not valid JSON", 2);
    }
    // Passed through as written, so u64 values (nanosecond times) stay exact.
    data = dataJson;
  } else if (inputHex !== undefined) {
    if (!/^0x([0-9a-fA-F]{2})*$/.test(inputHex)) throw new CliError("--input-hex is 0x and pairs of hex digits", 2);
    data = JSON.stringify({ Raw: inputHex });
  } else {
    data = JSON.stringify({ Raw: [...new TextEncoder().encode(input ?? "")] });
  }
  const body =
    `{"service_id":${JSON.stringify(serviceId)},"workflow_id":${JSON.stringify(workflowId)},"trigger":"manual",` +
    `"data":${data},"count":${countText},"wait_for_completion":${wait}}`;
  out.progress(`firing ${workflowId} of ${serviceId} on ${node.url}${wait ? " and waiting" : ""}`);
  const result = JSON.parse(await callNode(node, "POST", "/dev/triggers", { text: body })) as {
    event_keys: string[];
    completed: boolean;
  };
  out.result(
    result,
    `${result.event_keys.length} run(s) ${result.completed ? "finished" : "enqueued"}: ${result.event_keys.join(", ")}`,
  );
}
