import { readFile } from "node:fs/promises";
import { createPublicClient, createWalletClient, http, parseAbi, type Hex } from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { parseServiceJson, ServiceJsonError } from "../../src/service/service-json";
import { CliError, flagReader, type ParsedArgs } from "../args";
import { fetchComponentBytes } from "../fetch-component-bytes";
import { callNode, resolveNode } from "../node-client";
import type { Output } from "../output";

const managerAbi = parseAbi(["function setServiceURI(string uri)", "function getServiceURI() view returns (string)"]);

/** `upload-component FILE`: stores a component on the node; prints its digest. */
export async function uploadComponentCommand(args: ParsedArgs, out: Output): Promise<void> {
  const flags = flagReader(args);
  const path = args.positionals[1];
  if (!path) throw new CliError("usage: wavs-edge upload-component FILE.wasm", 2);
  const node = await resolveNode(flags);
  flags.done();
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch {
    throw new CliError(`cannot read ${path}`, 2);
  }
  out.progress(`uploading ${path} (${bytes.length} bytes) to ${node.url}`);
  const { digest } = JSON.parse(await callNode(node, "POST", "/dev/components", { bytes })) as { digest: string };
  out.result({ digest }, digest);
}

/**
 * `deploy-service`: registers a service on the node. With --service-file the JSON is saved on the
 * node first and its /dev/services URL becomes the URI; --set-uri writes the URI to the manager
 * contract (needs --rpc-url and WAVS_CLI_EVM_CREDENTIAL or --credential) before registering.
 */
export async function deployServiceCommand(args: ParsedArgs, out: Output): Promise<void> {
  const flags = flagReader(args);
  const node = await resolveNode(flags);
  const serviceFile = flags.str("service-file");
  let uri = flags.str("service-uri");
  const setUri = flags.bool("set-uri");
  const rpcUrl = flags.str("rpc-url");
  const credential = flags.str("credential") ?? process.env.WAVS_CLI_EVM_CREDENTIAL;
  const ipfsGateway = flags.str("ipfs-gateway") ?? process.env.WAVS_CLI_IPFS_GATEWAY;
  flags.done();
  if (!!serviceFile === !!uri) throw new CliError("pass exactly one of --service-uri URI and --service-file FILE", 2);

  let text: string;
  if (serviceFile) {
    text = await readFile(serviceFile, "utf8").catch(() => {
      throw new CliError(`cannot read ${serviceFile}`, 2);
    });
    parseOrFail(text, serviceFile);
    out.progress(`saving ${serviceFile} on the node`);
    const { hash } = JSON.parse(await callNode(node, "POST", "/dev/services", { text })) as { hash: string };
    uri = `${node.url}/dev/services/${hash}`;
  } else {
    out.progress(`fetching ${uri}`);
    // ipfs:// through a gateway, as set-source-uri reads components; the node verifies the CID itself.
    text = new TextDecoder().decode(await fetchComponentBytes(uri!, ipfsGateway));
  }
  const service = parseOrFail(text, uri!);
  const manager = service.manager;

  if (setUri) {
    if (!rpcUrl) throw new CliError("--set-uri needs --rpc-url", 2);
    if (!credential)
      throw new CliError("--set-uri needs WAVS_CLI_EVM_CREDENTIAL (or --credential): the manager owner's key", 2);
    const account = /^0x[0-9a-fA-F]{64}$/.test(credential)
      ? privateKeyToAccount(credential as Hex)
      : mnemonicToAccount(credential);
    out.progress(`setting the service URI on ${manager.evm.address} (${manager.evm.chain})`);
    const wallet = createWalletClient({ account, transport: http(rpcUrl) });
    const client = createPublicClient({ transport: http(rpcUrl) });
    try {
      const hash = await wallet.writeContract({
        chain: null,
        address: manager.evm.address,
        abi: managerAbi,
        functionName: "setServiceURI",
        args: [uri!],
      });
      const receipt = await client.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error("reverted");
    } catch (e) {
      throw new CliError(
        `setServiceURI failed: ${((e as { shortMessage?: string }).shortMessage ?? (e as Error).message).split("\n")[0]}`,
      );
    }
  }
  out.progress(`registering the service on ${node.url}`);
  await callNode(node, "POST", "/services", { json: { service_manager: manager } });
  const { services, service_ids } = JSON.parse(await callNode(node, "GET", "/services")) as {
    services: { manager: typeof manager }[];
    service_ids: string[];
  };
  const index = services.findIndex(
    (s) =>
      s.manager.evm.address.toLowerCase() === manager.evm.address.toLowerCase() &&
      s.manager.evm.chain === manager.evm.chain,
  );
  const serviceId = service_ids[index];
  out.result(
    { service_id: serviceId, service_uri: uri, manager },
    `registered ${service.name} as ${serviceId} (URI ${uri})`,
  );
}

/** `tasks [EVENT_ID]`: recent tasks, or one task's timeline. */
export async function tasksCommand(args: ParsedArgs, out: Output): Promise<void> {
  const flags = flagReader(args);
  const node = await resolveNode(flags);
  const query = flags.query(["service-id", "workflow-id", "status", "limit"]);
  flags.done();
  const eventId = args.positionals[1];
  if (eventId) {
    const task = JSON.parse(await callNode(node, "GET", `/tasks/${eventId}`)) as {
      status: string;
      steps: { step: string; at: number }[];
      txHash: string | null;
      error: string | null;
    };
    const t0 = task.steps[0]?.at ?? 0;
    const timeline = task.steps.map((s) => `  +${String(s.at - t0).padStart(6)} ms  ${s.step}`).join("\n");
    out.result(
      task,
      `${eventId}: ${task.status}${task.txHash ? ` (tx ${task.txHash})` : ""}${task.error ? ` — ${task.error}` : ""}\n${timeline}`,
    );
    return;
  }
  const { tasks } = JSON.parse(await callNode(node, "GET", `/tasks${query}`)) as {
    tasks: { eventId: string; status: string; workflowId: string; createdAt: number }[];
  };
  const lines = tasks.map(
    (t) => `${t.eventId}  ${t.status.padEnd(9)}  ${t.workflowId}  ${new Date(t.createdAt).toISOString()}`,
  );
  out.result({ tasks }, lines.length ? lines.join("\n") : "no tasks yet");
}

function parseOrFail(text: string, where: string) {
  try {
    return parseServiceJson(text);
  } catch (e) {
    if (e instanceof ServiceJsonError) throw new CliError(`${where}: ${e.message}`);
    throw e;
  }
}
