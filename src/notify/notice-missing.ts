import { sql, type Expression, type RawBuilder } from "kysely";
import type { NoticeKind } from "../billing/dunning-policy.ts";

/**
 * A WHERE condition: no notice of this kind exists yet for that subscription
 * and cycle. The sweeps use it to skip rendering notices that the unique key
 * (subscription, cycle, kind) would refuse anyway.
 */
export function noticeMissing(kind: NoticeKind, subscriptionId: Expression<string>, cycle: Expression<number>): RawBuilder<boolean> {
  return sql<boolean>`not exists (select 1 from notices n where n.subscription_id = ${subscriptionId} and n.cycle = ${cycle} and n.kind = ${kind})`;
}
