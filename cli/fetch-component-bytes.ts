/**
 * The bytes behind a component URI, for `component set-source-uri` without `--digest` (wavs-cli
 * downloads them to pin their sha256). http(s) directly; `ipfs://CID[/path]` through a gateway,
 * as wavs-cli does. The node checks the digest (and the CID) again when it registers the service.
 */
import { CID } from "multiformats/cid";
import { CliError } from "./args";

/** wavs-cli's default gateway (utils::service::DEFAULT_IPFS_GATEWAY). */
export const DEFAULT_IPFS_GATEWAY = "https://ipfs.io/ipfs/";
/** The node's own limit (MAX_COMPONENT_BYTES in src/execute/component-store.ts, which needs the Worker types). */
const MAX_COMPONENT_BYTES = 15 * 1024 * 1024;

/**
 * The http(s) URL to fetch for `uri`.
 * @throws CliError for another scheme or an ipfs URI without a valid CID
 */
export function componentFetchUrl(uri: string, ipfsGateway = DEFAULT_IPFS_GATEWAY): string {
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    throw new CliError(`--uri ${uri} is not a URI`, 2);
  }
  if (parsed.protocol === "http:" || parsed.protocol === "https:") return uri;
  if (parsed.protocol !== "ipfs:") throw new CliError("--uri must be http://, https:// or ipfs://", 2);
  const cid = uri.slice("ipfs://".length).split(/[/?#]/)[0]!;
  try {
    CID.parse(cid);
  } catch {
    throw new CliError(`--uri: ${cid} is not a valid CID`, 2);
  }
  const path = uri.slice("ipfs://".length + cid.length).replace(/^\/+/, "");
  const base = ipfsGateway.endsWith("/") ? ipfsGateway : `${ipfsGateway}/`;
  return path ? `${base}${cid}/${path}` : `${base}${cid}`;
}

/** @throws CliError when the URI is unreachable, answers non-2xx or is too large */
export async function fetchComponentBytes(uri: string, ipfsGateway?: string): Promise<Uint8Array> {
  const url = componentFetchUrl(uri, ipfsGateway);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  } catch (e) {
    throw new CliError(`cannot fetch ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new CliError(`${url} answered ${res.status}`);
  const declared = Number(res.headers.get("content-length") ?? 0);
  if (declared > MAX_COMPONENT_BYTES) throw new CliError(`${url} is over ${MAX_COMPONENT_BYTES >> 20} MiB`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length > MAX_COMPONENT_BYTES) throw new CliError(`${url} is over ${MAX_COMPONENT_BYTES >> 20} MiB`);
  return bytes;
}
