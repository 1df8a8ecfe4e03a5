/**
 * The block a submission's trigger fired in, on the chain the result goes to: nothing can have
 * landed for the event before it, so a search for a landing starts there.
 */
import { z } from "zod";

const height = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform(BigInt);
const triggerData = z.union([
  z
    .object({ EvmContractEvent: z.object({ chain: z.string(), block_number: height }) })
    .transform((d) => ({ chain: d.EvmContractEvent.chain, block: d.EvmContractEvent.block_number })),
  z
    .object({ BlockInterval: z.object({ chain: z.string(), block_height: height }) })
    .transform((d) => ({ chain: d.BlockInterval.chain, block: d.BlockInterval.block_height })),
]);
const submission = z.object({ trigger_action: z.object({ data: triggerData }) });

/** The trigger's block when the Submission JSON's trigger fired on `chain`; else undefined (cron, raw, another chain, unreadable). */
export function triggerBlockOn(json: string, chain: string): bigint | undefined {
  let body: unknown;
  try {
    body = JSON.parse(json);
  } catch {
    return undefined;
  }
  const parsed = submission.safeParse(body);
  return parsed.success && parsed.data.trigger_action.data.chain === chain
    ? parsed.data.trigger_action.data.block
    : undefined;
}
