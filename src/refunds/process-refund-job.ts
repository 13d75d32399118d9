import type { Deps } from "../deps.ts";
import { FIRST_LOOKUP_DELAY_MS } from "../charges/lookup-backoff.ts";
import { enqueueRefund } from "./enqueue-refund.ts";
import { resolveRefund } from "./resolve-refund.ts";
import { sendRefund } from "./send-refund.ts";


/**
 * One run of a `refund` job: send the refund if it was never sent, else settle it by lookup.
 * A wait becomes the refund's next job (its id carries the new state). A refund still in
 * flight in another worker is left to it, or, if that worker died, to the sweep.
 */
export async function processRefundJob(deps: Deps, refundId: string): Promise<string> {
  const refund = await deps.db.selectFrom("refunds").select(["status", "sent_at"]).where("id", "=", refundId).executeTakeFirst();
  if (refund === undefined) return "no such refund";
  if (refund.status === "pending" && refund.sent_at === null) {
    const sent = await sendRefund(deps, refundId);
    if (sent.kind === "sent") {
      if (sent.settled.refund.status === "unknown") await enqueueRefund(deps, refundId, FIRST_LOOKUP_DELAY_MS);
      return `sent: ${sent.settled.refund.status}${sent.settled.refund.code === null ? "" : ` ${sent.settled.refund.code}`}`;
    }
  }
  const resolved = await resolveRefund(deps, refundId);
  switch (resolved.kind) {
    case "settled":
      return `resolved: ${resolved.verdict}`;
    case "wait":
      if (resolved.why !== "in_flight") await enqueueRefund(deps, refundId, resolved.retryInMs);
      return `waiting (${resolved.why}) ${Math.round(resolved.retryInMs)} ms`;
    case "not_sent":
      return "not sent yet";
    case "already_settled":
      return `already ${resolved.refund?.status ?? "gone"}`;
  }
}
