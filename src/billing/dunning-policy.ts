// The dunning policy and the pure decisions it drives: after a declined renewal,
// retry later, ask for a new card, or give up. Every retry time is anchored to the
// invoice's FIRST failure, so slow workers or a new card never stretch the
// schedule, and the subscription always reaches its final state on time.
import type { DeclineCode } from "../oen/types.ts";
import { classifyDecline, HARD_DECLINE_CODES, SOFT_DECLINE_CODES } from "./declines.ts";

export type NoticeKind =
  | "payment_failed"
  | "card_expired"
  | "card_needs_replacing"
  | "final_notice"
  | "subscription_canceled"
  | "renewal_reminder"
  | "trial_will_end";

export type FinalState = "unpaid" | "canceled";

export interface DunningPolicy {
  /** Retry k runs retryScheduleMs[k-1] after the invoice's first failed attempt; empty means no retries. */
  readonly retryScheduleMs: readonly number[];
  /** Each retry moves by up to ±jitterRatio of its step (0..0.5), so card retries do not arrive in bursts. */
  readonly jitterRatio: number;
  readonly finalState: FinalState;
  /** Together the two lists hold every decline code Oen documents; absent or undocumented codes are soft. */
  readonly softCodes: readonly DeclineCode[];
  readonly hardCodes: readonly DeclineCode[];
  /** At most this many charge attempts per card in any window of cardAttemptWindowMs. */
  readonly cardAttemptLimit: number;
  readonly cardAttemptWindowMs: number;
}

const DAY_MS = 86_400_000;
const DECLINE_CODES: readonly DeclineCode[] = [...SOFT_DECLINE_CODES, ...HARD_DECLINE_CODES];

const DEFAULTS: DunningPolicy = {
  retryScheduleMs: [1, 3, 5, 7].map((days) => days * DAY_MS),
  jitterRatio: 0.1,
  finalState: "canceled",
  softCodes: SOFT_DECLINE_CODES,
  hardCodes: HARD_DECLINE_CODES,
  cardAttemptLimit: 15,
  cardAttemptWindowMs: 30 * DAY_MS,
};

function invalidPolicy(field: keyof DunningPolicy, rule: string, value: unknown): RangeError {
  return new RangeError(`dunning policy ${field} must be ${rule}, got ${JSON.stringify(value)}`);
}

function isPositiveInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 1;
}

function validate(policy: DunningPolicy): void {
  const schedule = policy.retryScheduleMs;
  if (!schedule.every((delay, i) => isPositiveInteger(delay) && delay > (schedule[i - 1] ?? 0))) {
    throw invalidPolicy("retryScheduleMs", "strictly increasing whole milliseconds > 0", schedule);
  }
  // Above 0.5 two neighbouring retries could swap places.
  if (!(policy.jitterRatio >= 0 && policy.jitterRatio <= 0.5)) {
    throw invalidPolicy("jitterRatio", "between 0 and 0.5", policy.jitterRatio);
  }
  if (policy.finalState !== "unpaid" && policy.finalState !== "canceled") {
    throw invalidPolicy("finalState", `"unpaid" or "canceled"`, policy.finalState);
  }
  const listed = [...policy.softCodes, ...policy.hardCodes];
  if (listed.length !== DECLINE_CODES.length || !DECLINE_CODES.every((code) => listed.includes(code))) {
    throw invalidPolicy("softCodes", `with hardCodes, each of ${DECLINE_CODES.join(", ")} exactly once`, listed);
  }
  if (!isPositiveInteger(policy.cardAttemptLimit)) {
    throw invalidPolicy("cardAttemptLimit", "an integer >= 1", policy.cardAttemptLimit);
  }
  if (!isPositiveInteger(policy.cardAttemptWindowMs)) {
    throw invalidPolicy("cardAttemptWindowMs", "whole milliseconds > 0", policy.cardAttemptWindowMs);
  }
}

/** The defaults with `overrides` applied, validated and frozen. Throws RangeError naming the bad field. */
export function createDunningPolicy(overrides: Partial<DunningPolicy> = {}): DunningPolicy {
  const policy = { ...DEFAULTS, ...overrides };
  validate(policy);
  return Object.freeze({
    ...policy,
    retryScheduleMs: Object.freeze([...policy.retryScheduleMs]),
    softCodes: Object.freeze([...policy.softCodes]),
    hardCodes: Object.freeze([...policy.hardCodes]),
  });
}

/** Soft declines retried after 1, 3, 5 and 7 days (±10%), then canceled; 15 attempts per card in 30 days. */
export const defaultDunningPolicy: DunningPolicy = createDunningPolicy();

export type DunningDecision =
  | { action: "retry"; at: Date; retryNumber: number; notices: NoticeKind[] }
  | { action: "await_new_card"; finalAt: Date; notices: NoticeKind[] }
  | { action: "final"; state: FinalState; notices: NoticeKind[] };

export interface DeclineInput {
  policy: DunningPolicy;
  /** Oen's decline code, or null when a lookup only said the charge failed. */
  code: string | null;
  /** The invoice's first failed attempt; null when the decline being decided is that first failure. */
  firstFailureAt: Date | null;
  /** Retries of this invoice already made on the current card (0 after a new card). */
  retriesMadeOnCard: number;
  /** Attempts on this card within the policy's window, the declined one included (see countCardAttempts). */
  cardAttemptsInWindow: number;
  /** When the decline happened. */
  now: Date;
  /** Uniform in [0, 1): picks the jitter, so the decision stays a pure function. */
  random: number;
}

interface RetrySlot {
  retryNumber: number;
  nominalMs: number;
  spreadMs: number;
}

// A retry's jitter is bounded by the shorter of its two neighbouring steps:
// with a ratio of at most 0.5 the windows of consecutive retries cannot
// overlap, so retries keep their order whatever random values they get.
function retrySlots(policy: DunningPolicy, firstFailureMs: number): RetrySlot[] {
  const schedule = policy.retryScheduleMs;
  return schedule.map((delay, i) => {
    const stepBefore = delay - (schedule[i - 1] ?? 0);
    const stepAfter = (schedule[i + 1] ?? delay + stepBefore) - delay;
    return {
      retryNumber: i + 1,
      nominalMs: firstFailureMs + delay,
      spreadMs: Math.floor(policy.jitterRatio * Math.min(stepBefore, stepAfter)),
    };
  });
}

function finalDeadlineMs(policy: DunningPolicy, firstFailureMs: number): number {
  return firstFailureMs + (policy.retryScheduleMs.at(-1) ?? 0);
}

function assertCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be an integer >= 0, got ${value}`);
}

function assertDate(name: string, value: Date): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new RangeError(`${name} must be a valid Date`);
}

function assertInput(input: DeclineInput): void {
  assertDate("now", input.now);
  if (input.firstFailureAt !== null) {
    assertDate("firstFailureAt", input.firstFailureAt);
    if (input.firstFailureAt.getTime() > input.now.getTime()) throw new RangeError("firstFailureAt must not be after now");
  }
  assertCount("retriesMadeOnCard", input.retriesMadeOnCard);
  assertCount("cardAttemptsInWindow", input.cardAttemptsInWindow);
  if (!(input.random >= 0 && input.random < 1)) throw new RangeError(`random must be in [0, 1), got ${input.random}`);
}

/** What happens when the schedule runs out, or when no new card came by the deadline. */
export function finalDecision(policy: DunningPolicy): Extract<DunningDecision, { action: "final" }> {
  return {
    action: "final",
    state: policy.finalState,
    notices: policy.finalState === "canceled" ? ["subscription_canceled"] : [],
  };
}

/** The next step after a declined charge of an invoice. Pure: time and randomness come in. */
export function decideAfterDecline(input: DeclineInput): DunningDecision {
  assertInput(input);
  const { policy } = input;
  const nowMs = input.now.getTime();
  const firstFailureMs = input.firstFailureAt?.getTime() ?? nowMs;

  const awaitNewCard = (notice: NoticeKind): DunningDecision => {
    const finalAtMs = finalDeadlineMs(policy, firstFailureMs);
    if (finalAtMs <= nowMs) return finalDecision(policy);
    return { action: "await_new_card", finalAt: new Date(finalAtMs), notices: [notice] };
  };

  if (classifyDecline(input.code, policy.hardCodes) === "hard") {
    return awaitNewCard(input.code === "T0003" ? "card_expired" : "card_needs_replacing");
  }
  // The next step whose whole jitter window lies ahead: a step already reached
  // (by a retry, late workers, or a new card's first try) is not retried again.
  const slot = retrySlots(policy, firstFailureMs).find(
    (s) => s.retryNumber > input.retriesMadeOnCard && s.nominalMs - s.spreadMs > nowMs,
  );
  if (slot === undefined) return finalDecision(policy);
  if (input.cardAttemptsInWindow >= policy.cardAttemptLimit) return awaitNewCard("card_needs_replacing");

  const notices: NoticeKind[] = [];
  if (input.firstFailureAt === null) notices.push("payment_failed");
  if (slot.retryNumber === policy.retryScheduleMs.length) notices.push("final_notice");
  const atMs = slot.nominalMs - slot.spreadMs + Math.floor(input.random * 2 * slot.spreadMs);
  return { action: "retry", at: new Date(atMs), retryNumber: slot.retryNumber, notices };
}

/** Attempts counted against a card's budget: those in the window ending now (and any later, from clock skew). */
export function countCardAttempts(attemptTimes: readonly Date[], now: Date, policy: DunningPolicy): number {
  const windowStartMs = now.getTime() - policy.cardAttemptWindowMs;
  return attemptTimes.filter((time) => time.getTime() > windowStartMs).length;
}

/** Whether one more attempt on the card now keeps it within cardAttemptLimit per cardAttemptWindowMs. */
export function cardBudgetAllows(attemptTimes: readonly Date[], now: Date, policy: DunningPolicy): boolean {
  return countCardAttempts(attemptTimes, now, policy) < policy.cardAttemptLimit;
}

/**
 * When the card may be tried again: null when one more attempt now stays
 * within cardAttemptLimit per cardAttemptWindowMs, else the moment enough of
 * its attempts have left the window. `attemptTimes` may be only the newest
 * cardAttemptLimit attempts; older ones cannot change the answer.
 */
export function cardBudgetReopensAt(attemptTimes: readonly Date[], now: Date, policy: DunningPolicy): Date | null {
  if (cardBudgetAllows(attemptTimes, now, policy)) return null;
  const newestFirst = attemptTimes.map((t) => t.getTime()).sort((a, b) => b - a);
  // The limit-th newest attempt must leave the window (a time exactly at its start no longer counts).
  return new Date(newestFirst[policy.cardAttemptLimit - 1]! + policy.cardAttemptWindowMs);
}

export type DunningEvent =
  | { at: Date; event: "retry"; detail: { retryNumber: number } }
  | { at: Date; event: "notice"; detail: { notice: NoticeKind } }
  | { at: Date; event: "final_state"; detail: { state: FinalState } };

export interface DunningPreview {
  /** Times are nominal: a real retry moves by up to ±jitterRatio of its step. */
  schedule: "nominal";
  jitterRatio: number;
  events: DunningEvent[];
}

function finalEvents(at: Date, policy: DunningPolicy): DunningEvent[] {
  return [
    { at, event: "final_state", detail: { state: policy.finalState } },
    ...noticeEvents(at, finalDecision(policy).notices),
  ];
}

function noticeEvents(at: Date, notices: NoticeKind[]): DunningEvent[] {
  return notices.map((notice) => ({ at, event: "notice", detail: { notice } }));
}

/**
 * The whole timeline that follows a decline at `now`, assuming every retry is
 * declined too and no new card arrives. For a subscription not yet in dunning,
 * pass its next renewal as `now`, a null code and a null firstFailureAt.
 */
export function previewDunning(input: Omit<DeclineInput, "random">): DunningPreview {
  const events: DunningEvent[] = [];
  // random 0.5 puts every retry exactly on its nominal time.
  let step: DeclineInput = { ...input, random: 0.5 };
  for (;;) {
    const decision = decideAfterDecline(step);
    switch (decision.action) {
      case "retry":
        events.push(...noticeEvents(step.now, decision.notices), {
          at: decision.at,
          event: "retry",
          detail: { retryNumber: decision.retryNumber },
        });
        step = {
          ...step,
          firstFailureAt: step.firstFailureAt ?? step.now,
          retriesMadeOnCard: step.retriesMadeOnCard + 1,
          cardAttemptsInWindow: step.cardAttemptsInWindow + 1,
          now: decision.at,
        };
        break;
      case "await_new_card":
        events.push(...noticeEvents(step.now, decision.notices), ...finalEvents(decision.finalAt, step.policy));
        return { schedule: "nominal", jitterRatio: step.policy.jitterRatio, events };
      case "final":
        events.push(...finalEvents(step.now, step.policy));
        return { schedule: "nominal", jitterRatio: step.policy.jitterRatio, events };
    }
  }
}
