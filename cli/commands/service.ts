import { readFile, writeFile } from "node:fs/promises";
import { parseLosslessJson, stringifyLosslessJson } from "../../src/service/lossless-json";
import { parseServiceJson, ServiceJsonError, sourceDigest } from "../../src/service/service-json";
import { sha256 } from "viem";
import { CliError, flagReader, type ParsedArgs } from "../args";
import { componentFetchUrl, fetchComponentBytes } from "../fetch-component-bytes";
import type { Output } from "../output";
import {
  addWorkflow,
  editComponent,
  initService,
  parseHttpHosts,
  parseKeyValues,
  parseU64,
  setWorkflowField,
  type DraftService,
} from "../service-file";

export const SERVICE_HELP = `wavs-edge service [--file service.json] <command> — build service JSON as wavs-cli does

  init --name NAME [--manager-chain evm:1 --manager-address 0x…]
  manager set-evm --chain evm:1 --address 0x…
  workflow add --id ID            (manual trigger, no submit, until you set them)
  workflow delete --id ID
  trigger set-evm --workflow-id ID --chain evm:1 --address 0x… --event-hash 0x…(32 bytes)
  trigger set-cron --workflow-id ID --schedule "0 * * * * *" [--start-time NS --end-time NS]
  trigger set-block-interval --workflow-id ID --chain evm:1 --n-blocks N [--start-block B --end-block B]
  trigger set-manual --workflow-id ID
  component set-source-digest --workflow-id ID --digest SHA256 [--aggregator]
  component set-source-uri --workflow-id ID --uri http(s)://…|ipfs://CID [--digest SHA256] [--ipfs-gateway URL] [--aggregator]
                                  (without --digest the bytes are fetched and hashed, as wavs-cli does)
  component set-source-download   (older name of set-source-uri)
  component set-source-registry --workflow-id ID --package NS:NAME --digest SHA256 [--domain wa.dev] [--version X.Y.Z] [--aggregator]
  component permissions --workflow-id ID [--http-hosts '*' | '' | a.com,b.com] [--file-system true|false] [--aggregator]
  component config --workflow-id ID --values k=v,k2=v2 [--aggregator]
  component env --workflow-id ID --values WAVS_ENV_A,WAVS_ENV_B [--aggregator]
  component limits --workflow-id ID [--fuel-limit N] [--time-limit SECONDS] [--aggregator]
  submit set-aggregator --workflow-id ID --digest SHA256 [--chain evm:1 --service-handler 0x…]
                                  (no --url: every node aggregates; the node's PEERS decide which)
  submit set-none --workflow-id ID
  update-status --status active|paused
  validate

Example:
  wavs-edge service init --name square --manager-chain evm:31337 --manager-address 0x5FbD…
  wavs-edge service workflow add --id default
  wavs-edge service trigger set-evm --workflow-id default --chain evm:31337 --address 0x… --event-hash 0x…
  wavs-edge service component set-source-digest --workflow-id default --digest $(wavs-edge upload-component square.wasm --json | jq -r .digest)
  wavs-edge service validate`;

/** `wavs-edge service …`: edits the service file in place. @throws CliError */
export async function serviceCommand(args: ParsedArgs, out: Output): Promise<void> {
  const flags = flagReader(args);
  const file = flags.str("file") ?? "service.json";
  const [group, action] = args.positionals.slice(1);
  const key = action && !["init", "validate", "update-status"].includes(group ?? "") ? `${group} ${action}` : group;

  if (key === "init") {
    const name = flags.req("name");
    const chain = flags.str("manager-chain");
    const address = flags.str("manager-address");
    if (!!chain !== !!address) throw new CliError("--manager-chain and --manager-address go together", 2);
    flags.done();
    await save(file, initService(name, chain && address ? { chain, address } : undefined), out);
    return;
  }
  if (key === "validate") {
    flags.done();
    const draft = await load(file);
    for (const [id, wf] of Object.entries(draft.workflows)) {
      if (!(wf.component as { source?: unknown }).source) {
        throw new CliError(
          `${file}: workflow ${id} has no component source; run \`service component set-source-digest --workflow-id ${id}\``,
        );
      }
    }
    const text = await readFile(file, "utf8");
    try {
      const service = parseServiceJson(text);
      const workflows = Object.keys(service.workflows);
      out.result(
        {
          valid: true,
          file,
          workflows,
          component_digests: Object.values(service.workflows).map((w) => sourceDigest(w.component.source)),
        },
        `${file} is a valid service: ${workflows.length} workflow(s): ${workflows.join(", ")}`,
      );
    } catch (e) {
      if (e instanceof ServiceJsonError) throw new CliError(`${file}: ${e.message.replace(/^invalid service: /, "")}`);
      throw e;
    }
    return;
  }

  let s = await load(file);
  const wf = () => flags.req("workflow-id");
  const aggregator = () => flags.bool("aggregator");
  switch (key) {
    case "manager set-evm":
      s = { ...s, manager: { evm: { chain: flags.req("chain"), address: flags.req("address").toLowerCase() } } };
      break;
    case "workflow add":
      s = addWorkflow(s, flags.req("id"));
      break;
    case "workflow delete": {
      const id = flags.req("id");
      if (!s.workflows[id]) throw new CliError(`no workflow ${id}`, 2);
      const { [id]: _, ...rest } = s.workflows;
      s = { ...s, workflows: rest };
      break;
    }
    case "trigger set-evm":
      s = setWorkflowField(s, wf(), "trigger", {
        evm_contract_event: {
          address: flags.req("address").toLowerCase(),
          chain: flags.req("chain"),
          event_hash: flags.req("event-hash").toLowerCase(),
        },
      });
      break;
    case "trigger set-cron":
      s = setWorkflowField(s, wf(), "trigger", {
        cron: {
          schedule: flags.req("schedule"),
          start_time: parseU64("start-time", flags.str("start-time")),
          end_time: parseU64("end-time", flags.str("end-time")),
        },
      });
      break;
    case "trigger set-block-interval": {
      const n = Number(flags.req("n-blocks"));
      if (!Number.isInteger(n) || n < 1) throw new CliError("--n-blocks is a positive integer", 2);
      s = setWorkflowField(s, wf(), "trigger", {
        block_interval: {
          chain: flags.req("chain"),
          n_blocks: n,
          start_block: parseU64("start-block", flags.str("start-block")),
          end_block: parseU64("end-block", flags.str("end-block")),
        },
      });
      break;
    }
    case "trigger set-manual":
      s = setWorkflowField(s, wf(), "trigger", "manual");
      break;
    case "component set-source-digest": {
      const digest = parseDigest(flags.req("digest"));
      s = editComponent(s, wf(), aggregator(), (c) => ({ ...c, source: { digest } }));
      break;
    }
    case "update-status": {
      const status = flags.req("status", "active or paused");
      if (status !== "active" && status !== "paused") throw new CliError("--status is active or paused", 2);
      s = { ...s, status };
      break;
    }
    case "component set-source-uri":
    case "component set-source-download": {
      const uri = flags.req("uri");
      const gateway = flags.str("ipfs-gateway") ?? process.env.WAVS_CLI_IPFS_GATEWAY;
      const given = flags.str("digest");
      const id = wf();
      const agg = aggregator();
      flags.done();
      componentFetchUrl(uri, gateway); // refuse a bad URI before fetching anything
      const digest =
        given !== undefined ? parseDigest(given) : sha256(await fetchComponentBytes(uri, gateway)).slice(2);
      s = editComponent(s, id, agg, (c) => ({ ...c, source: { download: { uri, digest } } }));
      break;
    }
    case "component set-source-registry": {
      const pkg = flags.req("package", "namespace:name");
      if (!/^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/.test(pkg))
        throw new CliError("--package is namespace:name (lowercase, e.g. wavs:square)", 2);
      const version = flags.str("version") ?? null;
      if (version !== null && !SEMVER.test(version))
        throw new CliError("--version is a semver version such as 1.2.3", 2);
      const registry = {
        digest: parseDigest(
          flags.req("digest", "this CLI does not resolve registry packages: give the component's sha256"),
        ),
        domain: flags.str("domain") ?? null,
        version,
        package: pkg,
      };
      s = editComponent(s, wf(), aggregator(), (c) => ({ ...c, source: { registry } }));
      break;
    }
    case "component permissions": {
      const hosts = flags.str("http-hosts");
      const fs = flags.str("file-system");
      s = editComponent(s, wf(), aggregator(), (c) => ({
        ...c,
        permissions: {
          ...(c.permissions as object),
          ...(hosts !== undefined ? { allowed_http_hosts: parseHttpHosts(hosts) } : {}),
          ...(fs !== undefined ? { file_system: fs === "true" } : {}),
        },
      }));
      break;
    }
    case "component config": {
      const values = parseKeyValues(flags.req("values", "k=v,k2=v2"));
      s = editComponent(s, wf(), aggregator(), (c) => ({ ...c, config: { ...(c.config as object), ...values } }));
      break;
    }
    case "component env": {
      const keys = flags.req("values", "WAVS_ENV_A,WAVS_ENV_B").split(",").filter(Boolean);
      const bad = keys.find((k) => !/^WAVS_ENV_[A-Za-z0-9_]+$/.test(k));
      if (bad) throw new CliError(`env keys must start with WAVS_ENV_: ${bad}`, 2);
      s = editComponent(s, wf(), aggregator(), (c) => ({
        ...c,
        env_keys: [...new Set([...(c.env_keys as string[]), ...keys])],
      }));
      break;
    }
    case "component limits": {
      const fuel = parseU64("fuel-limit", flags.str("fuel-limit"));
      const time = parseU64("time-limit", flags.str("time-limit"));
      s = editComponent(s, wf(), aggregator(), (c) => ({
        ...c,
        ...(fuel !== null ? { fuel_limit: fuel } : {}),
        ...(time !== null ? { time_limit_seconds: time } : {}),
      }));
      break;
    }
    case "submit set-aggregator": {
      if (args.flags.has("url")) {
        throw new CliError(
          "--url is gone: WAVS removed the aggregator url; every node aggregates and the node's PEERS decide which",
          2,
        );
      }
      const chain = flags.str("chain");
      const handler = flags.str("service-handler");
      const component = {
        permissions: { allowed_http_hosts: "none", file_system: false, raw_sockets: false, dns_resolution: false },
        fuel_limit: null,
        time_limit_seconds: null,
        config: { ...(chain ? { chain } : {}), ...(handler ? { service_handler: handler.toLowerCase() } : {}) },
        env_keys: [],
        source: { digest: parseDigest(flags.req("digest")) },
      };
      s = setWorkflowField(s, wf(), "submit", {
        aggregator: { component, signature_kind: { algorithm: "secp256k1", prefix: "eip191" } },
      });
      break;
    }
    case "submit set-none":
      s = setWorkflowField(s, wf(), "submit", "none");
      break;
    default:
      throw new CliError(
        `unknown command: service ${[group, action].filter(Boolean).join(" ")}; see wavs-edge service --help`,
        2,
      );
  }
  flags.done();
  await save(file, s, out);
}

const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** A sha256 digest as the service JSON writes it. @throws CliError */
function parseDigest(v: string): string {
  const digest = v.replace(/^0x/, "").toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(digest)) throw new CliError("--digest is a sha256: 64 hex digits", 2);
  return digest;
}

async function load(file: string): Promise<DraftService> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new CliError(`cannot read ${file}; create it with \`wavs-edge service init --name NAME\``, 2);
  }
  try {
    const value = parseLosslessJson(text);
    if (typeof value !== "object" || value === null || Array.isArray(value) || typeof value.workflows !== "object") {
      throw new Error("not a service object");
    }
    return value as DraftService;
  } catch (e) {
    throw new CliError(`${file} is not service JSON: ${(e as Error).message}`);
  }
}

async function save(file: string, s: DraftService, out: Output): Promise<void> {
  const text = prettyLossless(s);
  await writeFile(file, text + "\n");
  out.raw(text, `wrote ${file}`);
}

/** Indented output that keeps u64 values as bare integers. */
function prettyLossless(value: unknown): string {
  return indentLossless(value, "");
}

function indentLossless(value: unknown, pad: string): string {
  if (value === null || typeof value !== "object") return stringifyLosslessJson(value);
  const inner = pad + "  ";
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => inner + indentLossless(v, inner)).join(",\n")}\n${pad}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${indentLossless(v, inner)}`).join(",\n")}\n${pad}}`;
}
