/**
 * A local trustless IPFS gateway for tests (runs in Node): content is added as UnixFS with
 * ipfs-unixfs-importer and served as real CARs (@ipld/car) at `/ipfs/{cid}[/path]?format=car`,
 * the way https://trustless-gateway.link answers. `tamper` makes it lie: one leaf block of the
 * CAR is altered while its CID stays, which a verifying client must refuse. `POST /add` adds
 * content over HTTP (for tests inside workerd). Without `format=car` it answers the file itself,
 * as a path gateway does.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CarWriter } from "@ipld/car/writer";
import { MemoryBlockstore } from "blockstore-core/memory";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { importer } from "ipfs-unixfs-importer";
import type { CID } from "multiformats/cid";

export type AddOptions = {
  /** Wraps the file in a directory under this name: the URI is then ipfs://dir/name. */
  name?: string;
  /** 1 with raw leaves (the default), or 0 (dag-pb leaves, base58 Qm… CIDs). */
  cidVersion?: 0 | 1;
  /** Bytes per leaf block (default 64 KiB, so components span many blocks). */
  chunkSize?: number;
  /** Serve this content with one leaf block altered. */
  tamper?: boolean;
};

export type IpfsGateway = {
  url: string;
  /** Adds bytes and returns the ipfs:// URI that names them. */
  add(bytes: Uint8Array, options?: AddOptions): Promise<string>;
  /** Requests seen, as "path?query accept" lines (to check that clients ask for CARs). */
  requests: string[];
  close(): Promise<void>;
};

/** Starts the gateway on 127.0.0.1 (a random port). */
export async function startIpfsGateway(): Promise<IpfsGateway> {
  const cars = new Map<string, Uint8Array>();
  // The original bytes by path (cid or cid/name), for clients that ask for the file itself.
  const files = new Map<string, Uint8Array>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://gateway");
    requests.push(`${url.pathname}${url.search} ${req.headers.accept ?? ""}`);
    // POST /add?name=&cidVersion=&tamper=1 with the bytes as body: for tests running inside workerd.
    if (req.method === "POST" && url.pathname === "/add") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const q = url.searchParams;
        add(Buffer.concat(chunks), {
          ...(q.has("name") ? { name: q.get("name")! } : {}),
          cidVersion: q.get("cidVersion") === "0" ? 0 : 1,
          tamper: q.get("tamper") === "1",
        }).then(
          (uri) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ uri })),
          (e: Error) => res.writeHead(500).end(e.message),
        );
      });
      return;
    }
    const m = /^\/ipfs\/([^/]+)/.exec(url.pathname);
    const car = m && cars.get(m[1]!);
    const wantsCar =
      url.searchParams.get("format") === "car" || req.headers.accept?.includes("application/vnd.ipld.car");
    if (!car) return void res.writeHead(404).end("not found");
    if (!wantsCar) {
      // A path gateway's answer (the CLI reads service JSON this way); unverifiable, so the node never asks for it.
      const file = files.get(url.pathname.slice("/ipfs/".length).replace(/\/$/, ""));
      return void (file ? res.writeHead(200).end(file) : res.writeHead(404).end("not found"));
    }
    res.writeHead(200, { "content-type": "application/vnd.ipld.car; version=1" }).end(car);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function add(bytes: Uint8Array, options: AddOptions = {}): Promise<string> {
    const { cidVersion = 1, chunkSize = 64 * 1024 } = options;
    // MemoryBlockstore keys blocks by multihash and hands back raw-codec CIDs: keep the CIDs the
    // importer wrote, so the CAR names each block with its own codec as a real gateway does.
    const memory = new MemoryBlockstore();
    const written = new Map<string, CID>();
    const blockstore = Object.assign(Object.create(memory) as MemoryBlockstore, {
      put: (cid: CID, block: Uint8Array) => {
        written.set(cid.toString(), cid);
        return memory.put(cid, block);
      },
    });
    let root: CID | undefined;
    const entries = importer([{ path: options.name ?? "file", content: bytes }], blockstore, {
      cidVersion,
      rawLeaves: cidVersion === 1,
      wrapWithDirectory: options.name !== undefined,
      chunker: fixedSize({ chunkSize }),
    });
    for await (const entry of entries) root = entry.cid; // the last entry is the root
    const blocks: { cid: CID; bytes: Uint8Array }[] = [];
    for (const cid of written.values()) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of memory.get(cid)) chunks.push(chunk);
      blocks.push({ cid, bytes: Buffer.concat(chunks) });
    }
    if (options.tamper) {
      const leaf = blocks.find((b) => b.cid.code === 0x55 || b.bytes.length > chunkSize / 2) ?? blocks[0]!;
      leaf.bytes = Uint8Array.from(leaf.bytes);
      leaf.bytes[leaf.bytes.length >> 1]! ^= 0xff;
    }
    cars.set(root!.toString(), await writeCar(root!, blocks));
    files.set(`${root!.toString()}${options.name !== undefined ? `/${options.name}` : ""}`, bytes);
    return `ipfs://${root!.toString()}${options.name !== undefined ? `/${options.name}` : ""}`;
  }

  return { url, add, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function writeCar(root: CID, blocks: { cid: CID; bytes: Uint8Array }[]): Promise<Uint8Array> {
  const { writer, out } = CarWriter.create([root]);
  const collected = (async () => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of out) chunks.push(chunk);
    return Buffer.concat(chunks);
  })();
  for (const block of blocks) await writer.put(block);
  await writer.close();
  return new Uint8Array(await collected);
}
