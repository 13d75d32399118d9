/**
 * A fault plan: rules the simulator applies to incoming requests and outgoing webhooks.
 * Same format for `sim.faults.set(plan)`, `PUT /__sim/faults` and the SIM_FAULTS variable:
 *
 *   [{ "on": "charge", "kind": "c026_after_charge", "times": 1, "settleAfterMs": 500 },
 *    { "on": "lookup", "kind": "lookup_5xx", "probability": 0.5 },
 *    { "on": "webhook", "kind": "duplicate" }]
 *
 * Kinds, by what they act on:
 * - any of charge/lookup/list/checkout/refund (list: GET /transactions):
 *   `latency` (answer `latencyMs` later; a charge is recorded at once, its answer is delayed),
 *   `error_5xx` (500 F0001, nothing recorded), `bad_gateway` (502 HTML page, not JSON),
 *   `gateway_timeout` (504, nothing recorded), `drop` (socket destroyed, nothing recorded)
 * - charge: `gateway_timeout_after_charge` (charge recorded, 504), `drop_after_charge` (charge
 *   recorded, socket destroyed), `c026_after_charge` (charge recorded as `charging`, 409 C026;
 *   it settles to the card's real outcome `settleAfterMs` later, default 1000)
 * - refund: `gateway_timeout_after_refund` (refund made, 504), `drop_after_refund` (refund made,
 *   socket destroyed), `refund_failed` (400 R0001, the acquirer refused; nothing refunded),
 *   `charged_amount_too_low` (500 F0001 "Current charged amount too low"; nothing refunded)
 * - lookup (order lookups and GET /transactions/:id): `slow_lookup` (= latency), `lookup_5xx` (= error_5xx)
 * - webhook: `latency` (deliver later), `duplicate` (deliver the same body twice concurrently,
 *   each copy with its own tries), `reorder` (hold it until the next webhook has been tried, or
 *   `latencyMs`, default 1000), `drop` (never deliver)
 *
 * `probability` (default 1) is rolled with the simulator's seeded random source; `times` (default
 * unlimited) is how often the rule may fire. Latency rules add up; among the other rules, the
 * first one that fires decides the answer.
 */
export type FaultTarget = "charge" | "lookup" | "list" | "checkout" | "refund" | "webhook";

const REQUEST_KINDS = ["latency", "error_5xx", "bad_gateway", "gateway_timeout", "drop"] as const;
const KINDS_BY_TARGET = {
  charge: [...REQUEST_KINDS, "gateway_timeout_after_charge", "drop_after_charge", "c026_after_charge"],
  lookup: [...REQUEST_KINDS, "slow_lookup", "lookup_5xx"],
  list: REQUEST_KINDS,
  checkout: REQUEST_KINDS,
  refund: [...REQUEST_KINDS, "gateway_timeout_after_refund", "drop_after_refund", "refund_failed", "charged_amount_too_low"],
  webhook: ["latency", "duplicate", "reorder", "drop"],
} as const;

export type FaultKind = (typeof KINDS_BY_TARGET)[FaultTarget][number];

export interface FaultRule {
  on: FaultTarget;
  kind: FaultKind;
  probability?: number;
  times?: number;
  latencyMs?: number;
  settleAfterMs?: number;
}

export type FaultPlan = FaultRule[];

/** Kinds that only delay; every other kind replaces the normal answer. */
export const DELAY_KINDS: ReadonlySet<FaultKind> = new Set(["latency", "slow_lookup"]);

export class FaultPlanError extends Error {
  override name = "FaultPlanError";
}

/** Checks a plan from JSON; throws FaultPlanError naming the first bad rule. */
export function parseFaultPlan(input: unknown): FaultPlan {
  if (!Array.isArray(input)) throw new FaultPlanError("a fault plan is a JSON array of rules");
  return input.map((raw, index) => parseRule(raw, `rule ${index}`));
}

function parseRule(raw: unknown, where: string): FaultRule {
  if (typeof raw !== "object" || raw === null) throw new FaultPlanError(`${where}: must be an object`);
  const { on, kind, probability, times, latencyMs, settleAfterMs } = raw as Record<string, unknown>;
  if (typeof on !== "string" || !Object.hasOwn(KINDS_BY_TARGET, on)) {
    throw new FaultPlanError(`${where}: "on" must be one of ${Object.keys(KINDS_BY_TARGET).join(", ")}`);
  }
  const kinds: readonly string[] = KINDS_BY_TARGET[on as FaultTarget];
  if (typeof kind !== "string" || !kinds.includes(kind)) {
    throw new FaultPlanError(`${where}: "kind" for "${on}" must be one of ${kinds.join(", ")}`);
  }
  const rule: FaultRule = { on: on as FaultTarget, kind: kind as FaultKind };
  if (probability !== undefined) rule.probability = number(probability, `${where}: probability`, 0, 1);
  if (times !== undefined) rule.times = integer(times, `${where}: times`);
  if (latencyMs !== undefined) rule.latencyMs = integer(latencyMs, `${where}: latencyMs`);
  if (settleAfterMs !== undefined) rule.settleAfterMs = integer(settleAfterMs, `${where}: settleAfterMs`);
  return rule;
}

function number(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== "number" || !(value >= min && value <= max)) {
    throw new FaultPlanError(`${name} must be a number from ${min} to ${max}`);
  }
  return value;
}

function integer(value: unknown, name: string): number {
  if (!Number.isInteger(value) || (value as number) < 0) throw new FaultPlanError(`${name} must be an integer ≥ 0`);
  return value as number;
}
