import type { FastifyReply, FastifyRequest } from "fastify";
import { refused, sendAnswer, type Answer } from "./envelope.ts";
import type { FaultKind, FaultRule, FaultTarget } from "./fault-plan.ts";
import type { SimulatorContext } from "./simulator-context.ts";

// Faults that let the handler do its work (record a charge, make a refund) and then hide the answer.
const AFTER_RECORDING: ReadonlySet<FaultKind> = new Set([
  "gateway_timeout_after_charge",
  "drop_after_charge",
  "c026_after_charge",
  "gateway_timeout_after_refund",
  "drop_after_refund",
]);

/**
 * Runs `handle` under the faults planned for this request: a fault that replaces the answer skips
 * the handler (nothing recorded); an after-charge or after-refund fault lets it record, then
 * hides the answer (only when something was recorded); latency delays whatever is sent.
 */
export async function answerWithFaults(
  ctx: SimulatorContext,
  target: FaultTarget,
  request: FastifyRequest,
  reply: FastifyReply,
  handle: (fault: FaultRule | undefined) => Answer,
): Promise<FastifyReply> {
  const { latencyMs, fault } = ctx.faults.decide(target);
  const answer = fault !== undefined && !AFTER_RECORDING.has(fault.kind) ? undefined : handle(fault);
  await ctx.sleep(latencyMs);
  if (fault !== undefined && (answer === undefined || answer.recorded === true)) {
    return sendFaultAnswer(request, reply, fault.kind);
  }
  return answer === undefined ? reply : sendAnswer(reply, answer);
}

function sendFaultAnswer(request: FastifyRequest, reply: FastifyReply, kind: FaultKind): FastifyReply {
  switch (kind) {
    case "bad_gateway":
      return reply.code(502).type("text/html").send("<html><body><h1>502 Bad Gateway</h1></body></html>");
    case "gateway_timeout":
    case "gateway_timeout_after_charge":
    case "gateway_timeout_after_refund":
      // Oen cuts requests at 29 s at its gateway, which answers without Oen's envelope.
      return reply.code(504).send({ message: "Endpoint request timed out" });
    case "c026_after_charge":
      return sendAnswer(reply, refused(409, "C026", "PAYMENT_STATUS_UNKNOWN", { retryable: false }));
    case "refund_failed":
      return sendAnswer(reply, refused(400, "R0001", "REFUND_FAILED"));
    case "charged_amount_too_low":
      return sendAnswer(reply, refused(500, "F0001", "Current charged amount too low"));
    case "drop":
    case "drop_after_charge":
    case "drop_after_refund":
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    case "error_5xx":
    case "lookup_5xx":
    default:
      return sendAnswer(reply, refused(500, "F0001", "Internal Server Error"));
  }
}
