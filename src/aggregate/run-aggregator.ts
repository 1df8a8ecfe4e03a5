/**
 * Runs a workflow's aggregator component for one authenticated submission and carries out what it
 * asks, as WAVS does: `submit` hands the signature to the TaskAggregator of (event id, that chain
 * and address), with the action's gas price; `timer` asks the event's AggregatorTimers to call
 * handle-timer-callback after the delay (whose actions are carried out the same way); no action
 * means the signature is not counted anywhere. A submit target must be a handler of the service's
 * own manager (submit-target.ts): the operator's key pays for the transaction.
 */
import { BaseError, ContractFunctionRevertedError, ContractFunctionZeroDataError, isAddress, type Hex } from "viem";
import { checkSubmitTarget, readHandlerManager } from "../submit/submit-target";
import { nodeChains } from "../config";
import { openDb } from "../db/client";
import { recordTaskStep } from "../db/tasks";
import type { AggregatorAction } from "../execute/aggregator-types";
import { runAggregatorComponent } from "../execute/run-component";
import type { Service } from "../service/types";
import { prefixOrDefault } from "../sign/envelope";
import { readAggregatorInput } from "./aggregator-input";
import type { ParsedSubmission } from "./submission";
import type { AddSubmissionResult } from "./task-aggregator";
import { WavsError } from "../util/errors";

/** The component asked for something this node cannot do; asking again gives the same answer. */
export class AggregatorActionError extends WavsError {
  override name = "AggregatorActionError";
  constructor(message: string) {
    super("aggregator_action_refused", message);
  }
}

/** Where a workflow's results land. */
export interface SubmitTarget {
  chain: string;
  handler: Hex;
}

/** A submission whose signer was authenticated, and its weight then. */
export interface AuthenticatedSubmission {
  submission: ParsedSubmission;
  signer: Hex;
  weight: string;
}

/** What became of one aggregator step's actions. */
export interface AggregatorStepOutcome {
  actions: AggregatorAction[];
  /** The TaskAggregator's answer to each submit action, in order. */
  submitted: ({ target: SubmitTarget } & AddSubmissionResult)[];
  /** Timer actions scheduled. */
  timers: number;
}

/** Which task a signature counts toward: one event of one service's workflow. */
export interface TaskKey {
  serviceId: string;
  workflowId: string;
  eventId: Hex;
}

/**
 * The TaskAggregator's name for one (service, workflow, event id, submit target). The event id is
 * checked against the service, workflow and salt it derives from (check-event-id.ts) before a
 * signature gets here; naming the service and workflow too keeps another workflow's submission
 * from ever reaching this task.
 */
export function taskAggregatorName(task: TaskKey, target: SubmitTarget): string {
  return `${task.serviceId}:${task.workflowId}:${task.eventId.toLowerCase()}:${target.chain}:${target.handler.toLowerCase()}`;
}

/**
 * Calls the workflow's aggregator component (`process-input` for a new submission,
 * `handle-timer-callback` when its timer fires) and carries out the actions it returns.
 * @throws SubmissionError when the submission's trigger data is malformed; ExecutionError from the
 *   component; AggregatorActionError for a submit action this node cannot carry out (all permanent);
 *   anything else is transient
 */
export async function runAggregatorStep(
  env: Env,
  service: Service,
  fn: "process-input" | "handle-timer-callback",
  auth: AuthenticatedSubmission,
): Promise<AggregatorStepOutcome> {
  const { submission } = auth;
  const workflow = service.workflows[submission.workflowId]!;
  if (workflow.submit === "none") return { actions: [], submitted: [], timers: 0 };
  const component = workflow.submit.aggregator.component;
  // A timer stored before SubmissionInput holds the whole Submission JSON instead.
  const text = submission.input ?? (submission as { json?: string }).json ?? "";
  const input = readAggregatorInput(text, {
    serviceId: submission.serviceId,
    workflowId: submission.workflowId,
    trigger: workflow.trigger,
    eventId: submission.eventId,
    payload: submission.envelope.payload,
  });
  const chains = await nodeChains(env);
  const { actions, logs } = await runAggregatorComponent(env, {
    service,
    serviceId: submission.serviceId,
    workflowId: submission.workflowId,
    component,
    call: { fn, input },
    chains,
  });
  // A plain "submit" that logged nothing (simple-aggregator) shows in the timeline as the signature
  // it leads to; anything else (a timer, no action, several, logs) gets a step of its own.
  if (fn !== "process-input" || logs.length > 0 || actions.length !== 1 || !("submit" in actions[0]!)) {
    const task = { eventId: submission.eventId, serviceId: submission.serviceId, workflowId: submission.workflowId };
    await recordTaskStep(
      openDb(env.DB),
      task,
      fn === "process-input" ? "aggregator_input" : "aggregator_timer",
      {},
      {
        signer: auth.signer,
        actions: actions.map(describeAction),
        ...(logs.length ? { logs: logs.slice(0, 20) } : {}),
      },
    );
  }

  const outcome: AggregatorStepOutcome = { actions, submitted: [], timers: 0 };
  for (const action of actions) {
    if ("timer" in action) {
      checkTimerDelay(action.timer.delay_ms);
      const timers = env.AGGREGATOR_TIMERS.get(env.AGGREGATOR_TIMERS.idFromName(submission.eventId.toLowerCase()));
      await timers.schedule({ ...auth, dueAt: Date.now() + action.timer.delay_ms });
      outcome.timers++;
      continue;
    }
    const { chain, address, gas_price } = action.submit.evm;
    if (!chains.some((c) => c.key === chain))
      throw new AggregatorActionError(`the aggregator asked to submit on ${chain}, which this node does not know`);
    if (!isAddress(address))
      throw new AggregatorActionError(`the aggregator asked to submit to ${address}, which is not an address`);
    const target: SubmitTarget = { chain, handler: address.toLowerCase() as Hex };
    const handlerManager = await readHandlerManager(chains.find((c) => c.key === chain)!, target.handler).catch(
      (e: unknown) => {
        if (isNotAHandler(e))
          throw new AggregatorActionError(
            `the aggregator asked to submit to ${target.handler}, which does not answer getServiceManager()`,
          );
        throw e; // RPC trouble: transient
      },
    );
    const wrongTarget = checkSubmitTarget(target, handlerManager, service.manager.evm);
    if (wrongTarget)
      throw new AggregatorActionError(
        `the aggregator asked to submit to a handler that is not the service's: ${wrongTarget}`,
      );
    const aggregator = env.TASK_AGGREGATOR.get(env.TASK_AGGREGATOR.idFromName(taskAggregatorName(submission, target)));
    const result = await aggregator.addSubmission({
      eventId: submission.eventId,
      serviceId: submission.serviceId,
      workflowId: submission.workflowId,
      chain: target.chain,
      handler: target.handler,
      envelope: submission.envelope,
      signer: auth.signer,
      signature: submission.signature,
      prefix: prefixOrDefault(submission.prefix),
      weight: auth.weight,
      input: submission.input,
      ...(gas_price !== null ? { gasPrice: gas_price.toString() } : {}),
    });
    outcome.submitted.push({ target, ...result });
  }
  return outcome;
}

/** The address answered getServiceManager() with a revert or no data (not a contract, or not a handler). */
function isNotAHandler(e: unknown): boolean {
  return (
    e instanceof BaseError &&
    e.walk((x) => x instanceof ContractFunctionRevertedError || x instanceof ContractFunctionZeroDataError) !== null
  );
}

/** Bounds on an aggregator timer's delay: at least a second, at most a day. */
export const MIN_TIMER_DELAY_MS = 1_000;
export const MAX_TIMER_DELAY_MS = 24 * 3_600_000;

/**
 * A zero delay would loop the component as fast as the node can go, a year would pin an object.
 * @throws AggregatorActionError (permanent) outside [MIN_TIMER_DELAY_MS, MAX_TIMER_DELAY_MS]
 */
export function checkTimerDelay(delayMs: number | bigint): void {
  const delay = Number(delayMs);
  if (!(delay >= MIN_TIMER_DELAY_MS && delay <= MAX_TIMER_DELAY_MS)) {
    throw new AggregatorActionError(
      `the aggregator asked for a timer of ${delayMs} ms; timers must be from ${MIN_TIMER_DELAY_MS / 1000} s to ${MAX_TIMER_DELAY_MS / 3_600_000} h`,
    );
  }
}

function describeAction(action: AggregatorAction): Record<string, unknown> {
  if ("timer" in action) return { timer_ms: action.timer.delay_ms };
  const { chain, address, gas_price } = action.submit.evm;
  return { submit: { chain, address, ...(gas_price !== null ? { gas_price: gas_price.toString() } : {}) } };
}
