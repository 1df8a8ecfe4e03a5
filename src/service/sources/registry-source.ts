/**
 * Registry component sources (`{"registry": {digest, domain, version, package}}`), resolved as wkg
 * (wasm-pkg-tools) resolves a package: the domain's `/.well-known/wasm-pkg/registry.json` names
 * its OCI backend (`{"oci": {"registry", "namespacePrefix"}}`, or the older `ociRegistry` /
 * `ociNamespacePrefix`); the package `ns:name` at `version` is the OCI image
 * `{registry}/{namespacePrefix}{ns}/{name}:{version}` ("latest" without a version), whose first
 * `application/wasm` layer is the component (CNCF Wasm OCI artifact). Anonymous pull tokens are
 * fetched when the registry asks for one. Every request is bounded and policy-checked.
 */
import { z } from "zod";
import { ServiceError } from "../service-error";
import { fetchBounded } from "./bounded-fetch";

/** WAVS's default registry domain. */
export const DEFAULT_REGISTRY_DOMAIN = "wa.dev";
export const REGISTRY_METADATA_PATH = "/.well-known/wasm-pkg/registry.json";
const OCI_MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
const WASM_LAYER_TYPE = "application/wasm";
const MAX_METADATA_BYTES = 64 * 1024;
const REGISTRY_TIMEOUT_MS = 30_000;

export type RegistrySource = { digest: string; domain: string | null; version: string | null; package: string };

export type RegistryFetchSettings = {
  allowPrivate: boolean;
  /** Hosts (host[:port]) spoken to over plain http, as wkg's per-registry `protocol = "http"`. */
  httpHosts: string[];
  maxBytes: number;
};

const metadataSchema = z.looseObject({
  preferredProtocol: z.string().optional(),
  oci: z.looseObject({ registry: z.string().optional(), namespacePrefix: z.string().optional() }).optional(),
  ociRegistry: z.string().optional(),
  ociNamespacePrefix: z.string().optional(),
});

const manifestSchema = z.looseObject({
  layers: z
    .array(
      z.looseObject({ mediaType: z.string().optional(), digest: z.string(), size: z.number().int().nonnegative() }),
    )
    .min(1),
});

/** Where a package lives in OCI terms, from the domain's metadata. Pure. */
export type OciLocation = { registry: string; repository: string; tag: string };

/**
 * The OCI image a package names, given the domain's registry.json.
 * @throws ServiceError 422 `registry_unsupported` (no OCI backend) or `invalid_registry_source`
 */
export function resolveOciLocation(
  domain: string,
  metadata: unknown,
  pkg: string,
  version: string | null,
): OciLocation {
  const parsed = metadataSchema.safeParse(metadata);
  if (!parsed.success)
    throw new ServiceError(422, "registry_unsupported", `${domain}'s registry.json is not wasm-pkg registry metadata`);
  const m = parsed.data;
  const hasOci = m.oci !== undefined || m.ociRegistry !== undefined || m.ociNamespacePrefix !== undefined;
  if (!hasOci || (m.preferredProtocol !== undefined && m.preferredProtocol !== "oci" && !m.oci)) {
    throw new ServiceError(
      422,
      "registry_unsupported",
      `${domain} serves packages over ${m.preferredProtocol ?? "a protocol"} other than OCI, which this node does not speak`,
    );
  }
  const [namespace, name] = splitPackage(pkg);
  const registry = m.oci?.registry ?? m.ociRegistry ?? domain;
  const prefix = m.oci?.namespacePrefix ?? m.ociNamespacePrefix ?? "";
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(registry))
    throw new ServiceError(422, "registry_unsupported", `${domain} names an OCI registry that is not a host`);
  if (!/^([a-z0-9._-]+\/)*$/.test(prefix))
    throw new ServiceError(422, "registry_unsupported", `${domain} names an invalid OCI namespace prefix`);
  return { registry, repository: `${prefix}${namespace}/${name}`, tag: version ?? "latest" };
}

function splitPackage(pkg: string): [string, string] {
  const m = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*):([a-z][a-z0-9]*(?:-[a-z0-9]+)*)$/.exec(pkg);
  if (!m)
    throw new ServiceError(
      422,
      "invalid_registry_source",
      `package ${pkg} is not namespace:name (lowercase kebab-case)`,
    );
  return [m[1]!, m[2]!];
}

/**
 * The component bytes of a registry source. The layer's own digest must match the declared one
 * before anything is downloaded; the caller checks the bytes again.
 * @throws ServiceError 422 `invalid_registry_source`, `registry_unsupported`, `digest_mismatch`,
 *   `registry_not_allowed`, `registry_too_large`; 502 `registry_unreachable`
 */
export async function fetchRegistryComponent(
  source: RegistrySource,
  settings: RegistryFetchSettings,
): Promise<Uint8Array> {
  const domain = source.domain ?? DEFAULT_REGISTRY_DOMAIN;
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(domain))
    throw new ServiceError(422, "invalid_registry_source", `registry domain ${domain} is not a host`);
  if (source.version !== null && !/^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/.test(source.version)) {
    throw new ServiceError(422, "invalid_registry_source", `version ${source.version} is not a valid OCI tag`);
  }
  const origin = (host: string) => `${settings.httpHosts.includes(host) ? "http" : "https"}://${host}`;
  const common = { timeoutMs: REGISTRY_TIMEOUT_MS, code: "registry", allowPrivate: settings.allowPrivate };

  const metadataBytes = await fetchBounded(`${origin(domain)}${REGISTRY_METADATA_PATH}`, {
    ...common,
    maxBytes: MAX_METADATA_BYTES,
    what: `${domain}'s registry metadata`,
    headers: { accept: "application/json" },
  });
  const location = resolveOciLocation(
    domain,
    parseJson(metadataBytes, `${domain}'s registry.json`),
    source.package,
    source.version,
  );
  const base = `${origin(location.registry)}/v2/${location.repository}`;
  const what = `${source.package}@${location.tag} on ${location.registry}`;
  let token: Record<string, string> | undefined;
  const onUnauthorized = async (challenge: string) =>
    (token = await anonymousToken(challenge, location.repository, common));

  const manifest = manifestSchema.safeParse(
    parseJson(
      await fetchBounded(`${base}/manifests/${encodeURIComponent(location.tag)}`, {
        ...common,
        maxBytes: MAX_METADATA_BYTES,
        what: `the manifest of ${what}`,
        headers: { accept: OCI_MANIFEST_TYPE },
        onUnauthorized,
      }),
      `the manifest of ${what}`,
    ),
  );
  if (!manifest.success)
    throw new ServiceError(
      422,
      "registry_unsupported",
      `the manifest of ${what} is not an OCI image manifest with layers`,
    );
  const layers = manifest.data.layers;
  const layer = layers.find((l) => l.mediaType === WASM_LAYER_TYPE) ?? layers[0]!;
  if (layer.digest !== `sha256:${source.digest}`) {
    throw new ServiceError(422, "digest_mismatch", `${what} is not component ${source.digest}`);
  }
  if (layer.size > settings.maxBytes)
    throw new ServiceError(422, "registry_too_large", `${what} is over ${settings.maxBytes} bytes`);
  return fetchBounded(`${base}/blobs/${layer.digest}`, {
    ...common,
    maxBytes: settings.maxBytes,
    what,
    ...(token ? { headers: token } : {}),
    onUnauthorized,
  });
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new ServiceError(422, "registry_unsupported", `${what} is not JSON`);
  }
}

/**
 * Parses `Bearer realm="…",service="…",scope="…"` (the distribution token spec's challenge). Pure.
 * @returns undefined for any other scheme
 */
export function parseBearerChallenge(header: string): { realm: string; service?: string; scope?: string } | undefined {
  const m = /^\s*Bearer\s+(.*)$/i.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const [, key, value] of m[1]!.matchAll(/([a-zA-Z]+)="([^"]*)"/g)) params[key!.toLowerCase()] = value!;
  if (!params.realm) return undefined;
  return {
    realm: params.realm,
    ...(params.service ? { service: params.service } : {}),
    ...(params.scope ? { scope: params.scope } : {}),
  };
}

/** An anonymous pull token for the repository, when the registry's challenge offers one. */
async function anonymousToken(
  challenge: string,
  repository: string,
  common: { timeoutMs: number; code: string; allowPrivate: boolean },
): Promise<Record<string, string> | undefined> {
  const bearer = parseBearerChallenge(challenge);
  if (!bearer) return undefined;
  const url = new URL(bearer.realm);
  if (bearer.service) url.searchParams.set("service", bearer.service);
  url.searchParams.set("scope", bearer.scope ?? `repository:${repository}:pull`);
  const answer = parseJson(
    await fetchBounded(url.href, { ...common, maxBytes: MAX_METADATA_BYTES, what: "the registry's token service" }),
    "the registry's token answer",
  ) as { token?: unknown; access_token?: unknown };
  const token = typeof answer.token === "string" ? answer.token : answer.access_token;
  return typeof token === "string" && token ? { authorization: `Bearer ${token}` } : undefined;
}
