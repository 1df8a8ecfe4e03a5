/**
 * OutboundGate: the `globalOutbound` of every component worker that may use HTTP. Each request a
 * component makes (wasi:http through the guest's fetch) arrives here, outside the component's
 * isolate, and leaves only if the worker's allowed_http_hosts grant its host. A refusal is a 403
 * marked with GATE_REFUSAL_HEADER, which the guest turns into an error inside the component.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { log } from "../log";
import { GATE_REFUSAL_HEADER, refuseOutbound, type OutboundPolicy } from "./outbound-policy";

export class OutboundGate extends WorkerEntrypoint<Env, OutboundPolicy> {
  override async fetch(request: Request): Promise<Response> {
    const refusal = refuseOutbound(request.url, this.ctx.props);
    if (refusal) {
      log("warn", "component HTTP request refused", { subsys: "execute", host: hostOf(request.url) });
      return new Response(refusal, {
        status: 403,
        headers: { [GATE_REFUSAL_HEADER]: "refused", "content-type": "text/plain" },
      });
    }
    const response = await fetch(request);
    if (!response.headers.has(GATE_REFUSAL_HEADER)) return response;
    // an upstream server cannot pass itself off as the gate
    const headers = new Headers(response.headers);
    headers.delete(GATE_REFUSAL_HEADER);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(malformed)";
  }
}
