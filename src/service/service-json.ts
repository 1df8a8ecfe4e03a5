import { z } from "zod";
import { WavsError } from "../util/errors";
import { CronSyntaxError, parseCronSchedule } from "./cron-schedule";
import { parseLosslessJson, stringifyLosslessJson } from "./lossless-json";
import type { Service } from "./types";

const U64_MAX = (1n << 64n) - 1n;

export const u64 = z
  .union([z.number().int().nonnegative(), z.bigint().nonnegative()])
  .transform((v) => BigInt(v))
  .refine((v) => v <= U64_MAX, "must fit in a u64");
const hexBytes = (n: number) =>
  z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${n * 2}}$`), `must be 0x and ${n * 2} hex digits`);
const address = hexBytes(20);
const chainKey = z.string().regex(/^[a-z0-9-]+:[a-zA-Z0-9_-]+$/, 'must look like "evm:31337"');
const digest = z.string().regex(/^[0-9a-f]{64}$/, "must be a sha256 digest: 64 lowercase hex digits");
/** A service id as the API takes it (see computeServiceId). */
export const serviceIdSchema = z.string().regex(/^[0-9a-f]{64}$/, "service ids are 64 lowercase hex digits");
export const workflowIdSchema = z
  .string()
  .regex(/^[a-z0-9_-]{3,36}$/, "workflow ids are 3-36 characters of a-z, 0-9, _ and -");

/** WAVS refuses an interval whose start lies after its end. */
const startNotAfterEnd = (start: bigint | null, end: bigint | null) => start === null || end === null || start <= end;

/** A workflow trigger as WAVS serialises it (also the `trigger` of `POST /dev/triggers`). */
export const triggerSchema = z.union([
  z.strictObject({
    evm_contract_event: z.strictObject({ address, chain: chainKey, event_hash: hexBytes(32) }),
  }),
  z.strictObject({
    block_interval: z
      .strictObject({
        chain: chainKey,
        n_blocks: z.number().int().min(1).max(0xffff_ffff),
        // Non-zero in WAVS (NonZeroU64).
        start_block: u64
          .refine((v) => v > 0n, "must be at least 1")
          .nullable()
          .default(null),
        end_block: u64
          .refine((v) => v > 0n, "must be at least 1")
          .nullable()
          .default(null),
      })
      .refine((t) => startNotAfterEnd(t.start_block, t.end_block), {
        message: "start_block is after end_block",
        path: ["start_block"],
      }),
  }),
  z.strictObject({
    cron: z
      .strictObject({
        schedule: z
          .string()
          .min(1)
          .superRefine((text, ctx) => {
            try {
              parseCronSchedule(text);
            } catch (e) {
              if (!(e instanceof CronSyntaxError)) throw e;
              ctx.addIssue({ code: "custom", message: e.message });
            }
          }),
        start_time: u64.nullable().default(null),
        end_time: u64.nullable().default(null),
      })
      .refine((t) => startNotAfterEnd(t.start_time, t.end_time), {
        message: "start_time is after end_time",
        path: ["start_time"],
      }),
  }),
  z.literal("manual"),
]);
/**
 * Trigger kinds WAVS serialises that this node cannot run yet (no Cosmos, AT Protocol or Hypercore
 * ingestion). They are parsed so the refusal can name them, then refused by validateService.
 */
const unsupportedTriggerSchema = z.union([
  z.strictObject({
    cosmos_contract_event: z.strictObject({ address: z.string(), chain: chainKey, event_type: z.string() }),
  }),
  z.strictObject({
    at_proto_event: z.strictObject({
      collection: z.string(),
      repo_did: z.string().nullable().optional(),
      action: z.enum(["create", "update", "delete"]).nullable().optional(),
    }),
  }),
  z.strictObject({ hypercore_append: z.strictObject({ feed_key: z.string() }) }),
]);
export const UNSUPPORTED_TRIGGER_KINDS = ["cosmos_contract_event", "at_proto_event", "hypercore_append"] as const;
const trigger = z.union([triggerSchema, unsupportedTriggerSchema]);

const componentSource = z.union([
  z.strictObject({ download: z.strictObject({ uri: z.string().url(), digest }) }),
  z.strictObject({
    registry: z.strictObject({
      digest,
      domain: z.string().nullable().default(null),
      version: z.string().nullable().default(null),
      package: z.string(),
    }),
  }),
  z.strictObject({ digest }),
]);

const permissions = z
  .strictObject({
    allowed_http_hosts: z
      .union([z.literal("all"), z.literal("none"), z.strictObject({ only: z.array(z.string()) })])
      .default("none"),
    file_system: z.boolean().default(false),
    raw_sockets: z.boolean().default(false),
    dns_resolution: z.boolean().default(false),
  })
  .default({ allowed_http_hosts: "none", file_system: false, raw_sockets: false, dns_resolution: false });

const component = z.strictObject({
  source: componentSource,
  permissions,
  fuel_limit: u64.nullable().default(null),
  time_limit_seconds: u64.nullable().default(null),
  config: z.record(z.string(), z.string()).default({}),
  env_keys: z.array(z.string().regex(/^WAVS_ENV_[A-Za-z0-9_]+$/, "env keys must start with WAVS_ENV_")).default([]),
});

const submit = z.union([
  z.literal("none"),
  z.strictObject({
    aggregator: z.strictObject({
      // WAVS removed `url` on 2026-01-02: every node aggregates. Old JSON still parses and keeps
      // it (so it round-trips), but nothing reads it: the node's PEERS decide where signatures go.
      url: z.string().max(2048).optional(),
      component,
      signature_kind: z
        .strictObject({ algorithm: z.literal("secp256k1"), prefix: z.literal("eip191").nullable() })
        .default({ algorithm: "secp256k1", prefix: "eip191" }),
    }),
  }),
]);

export const serviceSchema = z.strictObject({
  name: z.string(),
  // WAVS allows a service with no workflows (registered, nothing to run).
  workflows: z.record(workflowIdSchema, z.strictObject({ trigger, component, submit })),
  status: z.enum(["active", "paused"]),
  manager: z.strictObject({ evm: z.strictObject({ chain: chainKey, address }) }),
});

/**
 * The service JSON's JSON Schema, generated from `serviceSchema` so the two cannot drift. u64
 * fields are integers of any size (JSON Schema has no bigint); defaults mark optional fields.
 */
export function serviceJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://wavs-edge.dev/schemas/service.json",
    title: "WAVS service",
    ...z.toJSONSchema(serviceSchema, {
      io: "input",
      unrepresentable: "any",
      override: (ctx) => {
        // z.bigint() is unrepresentable: a u64 is a bare JSON integer.
        const s = ctx.jsonSchema as Record<string, unknown>;
        const variants = s.anyOf as Record<string, unknown>[] | undefined;
        if (
          variants?.length === 2 &&
          variants.some((v) => v.type === "integer") &&
          variants.some((v) => Object.keys(v).length === 0)
        ) {
          delete s.anyOf;
          Object.assign(s, { type: "integer", minimum: 0, description: "u64 (up to 18446744073709551615)" });
        }
      },
    }),
  };
}

/**
 * Service JSON that cannot be registered: `invalid_service` when it is malformed,
 * `unsupported_trigger` when it is valid WAVS but names a trigger kind this node cannot run.
 */
export class ServiceJsonError extends WavsError {
  override name = "ServiceJsonError";
  declare readonly code: "invalid_service" | "unsupported_trigger";
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[] = [],
    code: "invalid_service" | "unsupported_trigger" = "invalid_service",
  ) {
    super(code, message, { status: 422, details: issues });
  }
}

/**
 * Parses service JSON as WAVS writes it, keeping u64 values exact.
 * @throws ServiceJsonError listing each field that is wrong
 */
export function parseServiceJson(text: string): Service {
  let raw: unknown;
  try {
    raw = parseLosslessJson(text);
  } catch (e) {
    throw new ServiceJsonError(`service JSON does not parse: ${(e as Error).message}`);
  }
  return validateService(raw);
}

/** @throws ServiceJsonError listing each field that is wrong */
export function validateService(raw: unknown): Service {
  const result = serviceSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    const first = issues[0]!;
    throw new ServiceJsonError(`invalid service: ${first.path || "(root)"}: ${first.message}`, issues);
  }
  refuseUnsupportedTriggers(result.data.workflows);
  return sortWorkflows(result.data as Service);
}

/** @throws ServiceJsonError (unsupported_trigger) naming every workflow whose trigger this node cannot run */
function refuseUnsupportedTriggers(workflows: Record<string, { trigger: unknown }>): void {
  const issues = Object.entries(workflows).flatMap(([id, wf]) => {
    const kind = typeof wf.trigger === "object" && wf.trigger !== null ? Object.keys(wf.trigger)[0] : undefined;
    return kind && (UNSUPPORTED_TRIGGER_KINDS as readonly string[]).includes(kind)
      ? [
          {
            path: `workflows.${id}.trigger`,
            message: `workflow ${id}: trigger kind ${kind} is not supported by this node`,
          },
        ]
      : [];
  });
  if (issues.length === 0) return;
  throw new ServiceJsonError(
    `${issues.map((i) => i.message).join("; ")} (it runs evm_contract_event, block_interval, cron and manual)`,
    issues,
    "unsupported_trigger",
  );
}

/** Service JSON in WAVS's format, u64 values as bare integers, workflows in id order. */
export function stringifyServiceJson(service: Service): string {
  return stringifyLosslessJson(sortWorkflows(service));
}

/** WAVS keeps workflows in a BTreeMap: components see them in id order. */
function sortWorkflows(service: Service): Service {
  const workflows = Object.fromEntries(
    Object.entries(service.workflows).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return { ...service, workflows };
}

/** The digest of a component source, whichever kind it is. */
export function sourceDigest(source: Service["workflows"][string]["component"]["source"]): string {
  if ("digest" in source) return source.digest;
  if ("download" in source) return source.download.digest;
  return source.registry.digest;
}

/**
 * The service in WAVS's current shape: an old `submit.aggregator.url` is dropped, as WAVS itself
 * drops it. What the node shows; the stored copy keeps the JSON as it was given.
 */
export function toCurrentShape(service: Service): Service {
  const workflows = Object.fromEntries(
    Object.entries(service.workflows).map(([id, wf]) => {
      if (wf.submit === "none" || wf.submit.aggregator.url === undefined) return [id, wf];
      const { url: _ignored, ...aggregator } = wf.submit.aggregator;
      return [id, { ...wf, submit: { aggregator } }];
    }),
  );
  return { ...service, workflows };
}
