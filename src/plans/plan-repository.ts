import type { Db } from "../db/connect.ts";
import type { Interval, Plan } from "../db/database.ts";

export interface PlanInput {
  name: string;
  amount: number;
  interval: Interval;
  intervalCount: number;
  productCode: string;
  description: string;
  unit: string;
  /** Days of trial before the first charge (0: none); a subscription may override it. */
  trialDays?: number;
  /** Whether customers may switch to this plan themselves (the portal). */
  selfService?: boolean;
}

/** Creates or replaces a plan (a field left out takes its default); the change applies to invoices created from now on. */
export async function upsertPlan(db: Db, id: string, input: PlanInput): Promise<Plan> {
  const values = {
    name: input.name,
    amount: input.amount,
    interval: input.interval,
    interval_count: input.intervalCount,
    product_code: input.productCode,
    description: input.description,
    unit: input.unit,
    trial_days: input.trialDays ?? 0,
    self_service: input.selfService ?? false,
  };
  return db
    .insertInto("plans")
    .values({ id, ...values })
    .onConflict((oc) => oc.column("id").doUpdateSet({ ...values, updated_at: new Date() }))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findPlan(db: Db, id: string): Promise<Plan | undefined> {
  return db.selectFrom("plans").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Every plan, oldest first (replacing a plan keeps its place). */
export async function listPlans(db: Db): Promise<Plan[]> {
  return db.selectFrom("plans").selectAll().orderBy("created_at").orderBy("id").execute();
}

export function planView(plan: Plan) {
  return {
    id: plan.id,
    name: plan.name,
    amount: plan.amount,
    currency: "TWD",
    interval: plan.interval,
    intervalCount: plan.interval_count,
    productCode: plan.product_code,
    description: plan.description,
    unit: plan.unit,
    trialDays: plan.trial_days,
    selfService: plan.self_service,
  };
}
