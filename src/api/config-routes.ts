import { Hono, type Context } from "hono";
import { nodeChains } from "../config";
import { parseSubmitterCredential } from "../sign/signing-keys";
import type { AppEnv } from "./app";
import { documentRoute } from "./api-docs";
import { MAX_COMPONENT_BYTES } from "../execute/component-store";
import { describeConfig } from "./config-view";
import { MAX_JSON_BODY } from "./body-limits";
import { parseCorsOrigins } from "./limits";

/** `GET /config`: the node's configuration, secrets reduced to "set"/"unset" (WAVS serves them). */
const CONFIG_PATH = documentRoute({
  method: "get",
  path: "/config",
  tag: "node",
  summary: "The node's configuration; secrets only as set/unset, RPC URLs redacted",
  responses: { 200: "the configuration" },
});

/** `GET /dev/config`: where current WAVS serves its configuration; the same redacted view. */
const DEV_CONFIG_PATH = documentRoute({
  method: "get",
  path: "/dev/config",
  tag: "node",
  summary: "The same as GET /config, at the path current WAVS releases use",
  responses: { 200: "the configuration" },
});

const serveConfig = async (c: Context<AppEnv>) => {
  const env = c.env as unknown as Record<string, unknown>;
  let submitter: string | null = null;
  try {
    submitter = c.env.WAVS_AGGREGATOR_EVM_CREDENTIAL
      ? parseSubmitterCredential(c.env.WAVS_AGGREGATOR_EVM_CREDENTIAL).address
      : null;
  } catch {
    submitter = "invalid credential";
  }
  return c.json({
    ...describeConfig({
      chains: await nodeChains(c.env),
      envKeys: Object.keys(env),
      isSet: (name) => typeof env[name] === "string" && (env[name] as string).length > 0,
      corsOrigins: parseCorsOrigins(c.env.CORS_ORIGINS),
      limits: {
        json_body_bytes: MAX_JSON_BODY,
        component_bytes: MAX_COMPONENT_BYTES,
        rate_limits: { "/webhooks/*": "WEBHOOK_LIMITER", "/aggregator/*": "PEER_LIMITER" },
      },
    }),
    // Public: the account that pays for submissions, so the operator knows what to fund.
    submitter_address: submitter,
  });
};

export const configRoutes = new Hono<AppEnv>().get(CONFIG_PATH, serveConfig).get(DEV_CONFIG_PATH, serveConfig);
