/**
 * The aggregator component's handle-submit-callback, called once a task landed (the transaction
 * hash) or failed (the error), with the input of the submission that asked to submit.
 */
import type { Hex } from "viem";
import { nodeChains } from "../config";
import { openDb } from "../db/client";
import { runAggregatorComponent } from "../execute/run-component";
import { describeError } from "../log";
import { findService } from "../service/service-registry";
import { isRetryable } from "../util/errors";
import { readAggregatorInput } from "./aggregator-input";
import { aggregatorTextOf, type TaskBase } from "./task-state";

/**
 * Calls the workflow's handle-submit-callback (nothing to call for a workflow without an
 * aggregator component, a service gone, or no submission JSON held). Records `submit_callback`
 * (when the component logged) or `submit_callback_failed` through `record`.
 * @throws a retryable error (the caller retries); a failing component is recorded, not thrown
 */
export async function callSubmitCallback(
  env: Env,
  task: Pick<TaskBase, "target" | "signatures" | "askedBy" | "input">,
  txResult: { ok: Hex } | { err: string },
  record: (step: string, detail: Record<string, unknown>) => Promise<void>,
): Promise<void> {
  const { eventId, serviceId, workflowId } = task.target;
  const registered = await findService(openDb(env.DB), serviceId);
  const workflow = registered?.service.workflows[workflowId];
  const signers = [...(task.askedBy ? [task.askedBy] : []), ...(Object.keys(task.signatures) as Hex[])];
  const text = signers.map((s) => aggregatorTextOf(task, s)).find((t) => t !== undefined);
  if (!registered || !workflow || workflow.submit === "none" || !text) return; // nothing to call back
  const input = readAggregatorInput(text, {
    serviceId,
    workflowId,
    trigger: workflow.trigger,
    eventId,
    payload: task.target.envelope.payload,
  });
  const detail = "ok" in txResult ? { tx_hash: txResult.ok } : { error: txResult.err };
  try {
    const { logs } = await runAggregatorComponent(env, {
      service: registered.service,
      serviceId,
      workflowId,
      component: workflow.submit.aggregator.component,
      call: { fn: "handle-submit-callback", input, txResult },
      chains: await nodeChains(env),
    });
    // Silent callbacks (simple-aggregator's) add nothing to the timeline.
    if (logs.length > 0) await record("submit_callback", { ...detail, logs: logs.slice(0, 20) });
  } catch (e) {
    if (isRetryable(e)) throw e;
    await record("submit_callback_failed", { ...detail, callback_error: describeError(e) });
  }
}
