/**
 * `ipfs://CID[/path]` content, fetched as a CAR from a trustless gateway (IPFS_GATEWAY) and verified
 * here: every block must hash to its CID, and the file is rebuilt from those blocks only, so a
 * gateway cannot substitute bytes. Bounded in CAR bytes, block count and file size.
 * Spec: https://specs.ipfs.tech/http-gateways/trustless-gateway/
 */
import { CarBlockIterator } from "@ipld/car/iterator";
import { exporter } from "ipfs-unixfs-exporter";
import { equals } from "multiformats/bytes";
import { CID } from "multiformats/cid";
import { identity } from "multiformats/hashes/identity";
import { sha256, sha512 } from "multiformats/hashes/sha2";
import { ServiceError } from "../service-error";
import { fetchBounded } from "./bounded-fetch";

/** Blocks accepted in one CAR (a 15 MiB file in 256 KiB chunks is ~60 leaves and a few parents). */
export const MAX_CAR_BLOCKS = 4096;
/** CAR framing and UnixFS nodes on top of the file's own bytes. */
const CAR_OVERHEAD_BYTES = 1 << 20;
const IPFS_TIMEOUT_MS = 30_000;
/** The default gateway: serves verifiable CARs, no trust needed. */
export const DEFAULT_IPFS_GATEWAY = "https://trustless-gateway.link";

const HASHERS = new Map<number, (bytes: Uint8Array) => Uint8Array | Promise<Uint8Array>>([
  [sha256.code, async (b) => (await sha256.digest(b)).bytes],
  [sha512.code, async (b) => (await sha512.digest(b)).bytes],
  [identity.code, (b) => identity.digest(b).bytes],
]);

export type IpfsUri = { cid: CID; path: string };

/**
 * Parses `ipfs://CID[/path]`; undefined when the URI is not ipfs.
 * @throws ServiceError 422 `invalid_ipfs_uri` when it is ipfs but the CID or path is malformed
 */
export function parseIpfsUri(uri: string): IpfsUri | undefined {
  if (!/^ipfs:/i.test(uri)) return undefined;
  // Not through URL: an ipfs: host is opaque and CIDv0 is case-sensitive base58.
  const m = /^ipfs:\/\/([^/?#]+)((?:\/[^/?#]+)*)\/?$/i.exec(uri);
  if (!m) throw new ServiceError(422, "invalid_ipfs_uri", "an IPFS URI is ipfs://CID or ipfs://CID/path");
  let cid: CID;
  try {
    cid = CID.parse(m[1]!);
  } catch {
    throw new ServiceError(422, "invalid_ipfs_uri", `${m[1]} is not a CID`);
  }
  const path = m[2] ?? "";
  if (path.split("/").some((seg) => seg === "." || seg === "..")) {
    throw new ServiceError(422, "invalid_ipfs_uri", "an IPFS path must not contain . or ..");
  }
  return { cid, path };
}

export type FetchIpfsParameters = {
  gateway: string;
  /** Largest file accepted. */
  maxBytes: number;
  /** Error code prefix for transport failures (as fetchBounded). */
  code: string;
  what: string;
};

/**
 * The file at `ipfs://CID/path`, each block checked against its CID.
 * @throws ServiceError 502 gateway unreachable, 422 `ipfs_verification_failed` (a block that does not
 *   match its CID, a missing block, not a file) or `{code}_too_large`
 */
export async function fetchIpfsFile(uri: IpfsUri, params: FetchIpfsParameters): Promise<Uint8Array> {
  const base = params.gateway.replace(/\/+$/, "");
  const car = await fetchBounded(`${base}/ipfs/${uri.cid.toString()}${encodePath(uri.path)}?format=car`, {
    maxBytes: params.maxBytes + CAR_OVERHEAD_BYTES,
    timeoutMs: IPFS_TIMEOUT_MS,
    code: params.code,
    what: `${params.what} (IPFS gateway)`,
    // The gateway is the operator's choice, not the service's.
    allowPrivate: true,
    headers: { accept: "application/vnd.ipld.car" },
  });
  const blocks = await readVerifiedBlocks(car);
  return exportFile(`${uri.cid.toString()}${uri.path}`, blocks, params);
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

const invalid = (message: string) => new ServiceError(422, "ipfs_verification_failed", message);

/**
 * Every block of the CAR, keyed by its CID's multihash, after checking that its bytes hash to it.
 * @throws ServiceError 422 `ipfs_verification_failed`
 */
export async function readVerifiedBlocks(car: Uint8Array): Promise<Map<string, Uint8Array>> {
  let iterator: CarBlockIterator;
  try {
    iterator = await CarBlockIterator.fromBytes(car);
  } catch (e) {
    throw invalid(`the gateway's answer is not a CAR: ${(e as Error).message}`);
  }
  const blocks = new Map<string, Uint8Array>();
  let count = 0;
  try {
    for await (const { cid, bytes } of iterator) {
      if (++count > MAX_CAR_BLOCKS) throw invalid(`the CAR holds more than ${MAX_CAR_BLOCKS} blocks`);
      const hash = HASHERS.get(cid.multihash.code);
      if (!hash)
        throw invalid(
          `block ${cid} uses hash function 0x${cid.multihash.code.toString(16)}, which this node does not verify`,
        );
      if (!equals(await hash(bytes), cid.multihash.bytes)) throw invalid(`block ${cid} does not match its CID`);
      blocks.set(blockKey(cid), bytes);
    }
  } catch (e) {
    if (e instanceof ServiceError) throw e;
    throw invalid(`the CAR is malformed: ${(e as Error).message}`);
  }
  return blocks;
}

// By multihash alone: the bytes were checked against it, and how to decode them comes from the
// link that names the block (a gateway may label a block CIDv1 when the link says v0).
const blockKey = (cid: CID) => cid.multihash.bytes.join(",");

async function exportFile(
  path: string,
  blocks: Map<string, Uint8Array>,
  params: FetchIpfsParameters,
): Promise<Uint8Array> {
  const store = {
    // eslint-disable-next-line require-yield
    *get(cid: CID): Generator<Uint8Array> {
      const bytes =
        blocks.get(blockKey(cid)) ?? (cid.multihash.code === identity.code ? cid.multihash.digest : undefined);
      if (!bytes) throw invalid(`the gateway's CAR is missing block ${cid}`);
      yield bytes;
    },
  };
  try {
    const entry = await exporter(path, store);
    if (entry.type !== "file" && entry.type !== "raw" && entry.type !== "identity") {
      throw invalid(`${path} is a ${entry.type}, not a file`);
    }
    if (entry.size > BigInt(params.maxBytes)) {
      throw new ServiceError(422, `${params.code}_too_large`, `${params.what} is over ${params.maxBytes} bytes`);
    }
    const out = new Uint8Array(Number(entry.size));
    let offset = 0;
    for await (const chunk of entry.content()) {
      if (offset + chunk.byteLength > out.length) throw invalid(`${path} holds more bytes than its size says`);
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    if (offset !== out.length) throw invalid(`${path} holds fewer bytes than its size says`);
    return out;
  } catch (e) {
    if (e instanceof ServiceError) throw e;
    throw invalid(`could not read ${path} from the CAR: ${(e as Error).message}`);
  }
}
