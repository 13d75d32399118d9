import type { Deps } from "../deps.ts";
import { enqueueResolve } from "../queues/enqueue.ts";
import { enqueueRefund } from "../refunds/enqueue-refund.ts";

export interface ResolveUnknownResult {
  attempts: Array<{ id: string; orderId: string; status: string }>;
  refunds: Array<{ id: string; oenTransactionId: string; status: string }>;
}

/**
 * Every charge attempt whose outcome is unknown (or still `sending`) gets its order lookup now,
 * and every refund not settled its next step: a waiting job is promoted rather than doubled. A
 * lookup still decides nothing before Oen can tell (an attempt in flight waits for it).
 */
export async function resolveUnknown(deps: Deps): Promise<ResolveUnknownResult> {
  const attempts = await deps.db.selectFrom("charge_attempts").select(["id", "order_id", "status"]).where("status", "in", ["sending", "unknown"]).orderBy("created_at").execute();
  for (const attempt of attempts) await enqueueResolve(deps, attempt.id);
  const refunds = await deps.db.selectFrom("refunds").select(["id", "oen_transaction_hid", "status"]).where("status", "in", ["pending", "unknown"]).orderBy("created_at").execute();
  for (const refund of refunds) await enqueueRefund(deps, refund.id);
  return {
    attempts: attempts.map((a) => ({ id: a.id, orderId: a.order_id, status: a.status })),
    refunds: refunds.map((r) => ({ id: r.id, oenTransactionId: r.oen_transaction_hid, status: r.status })),
  };
}
