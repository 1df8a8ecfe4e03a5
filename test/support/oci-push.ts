/**
 * Pushes a wasm component to an OCI registry over the distribution HTTP API, in the shape wkg
 * publishes (CNCF Wasm OCI artifact: config application/vnd.wasm.config.v0+json, one
 * application/wasm layer). Plain fetch and WebCrypto: runs in Node and in workerd alike.
 */
async function sha256Digest(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `sha256:${Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

async function pushBlob(base: string, repository: string, bytes: Uint8Array): Promise<string> {
  const digest = await sha256Digest(bytes);
  const start = await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: "POST" });
  if (start.status !== 202) throw new Error(`upload start answered ${start.status}`);
  const location = new URL(start.headers.get("location")!, base);
  location.searchParams.set("digest", digest);
  const put = await fetch(location, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream" },
    body: bytes,
  });
  if (put.status !== 201) throw new Error(`blob upload answered ${put.status}: ${await put.text()}`);
  return digest;
}

/** Pushes `wasm` as `repository:tag` to the registry at `http://host`. */
export async function pushWasmComponent(
  host: string,
  repository: string,
  tag: string,
  wasm: Uint8Array,
): Promise<void> {
  const base = `http://${host}`;
  const config = new TextEncoder().encode(
    JSON.stringify({ architecture: "wasm", os: "wasip2", layerDigests: [await sha256Digest(wasm)] }),
  );
  const configDigest = await pushBlob(base, repository, config);
  const layerDigest = await pushBlob(base, repository, wasm);
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.wasm.config.v0+json", digest: configDigest, size: config.length },
    layers: [{ mediaType: "application/wasm", digest: layerDigest, size: wasm.length }],
  };
  const res = await fetch(`${base}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    body: JSON.stringify(manifest),
  });
  if (res.status !== 201) throw new Error(`manifest upload answered ${res.status}: ${await res.text()}`);
}
