import { DELAY_KINDS, parseFaultPlan, type FaultPlan, type FaultRule, type FaultTarget } from "./fault-plan.ts";
import type { Random } from "./random.ts";

const DEFAULT_LATENCY_MS = 1_000;

/** The faults chosen for one request or webhook. */
export interface FaultDecision {
  /** Total delay from every latency rule that fired (and the chosen rule's own `latencyMs`). */
  latencyMs: number;
  /** The rule that replaces the normal answer, if any fired. */
  fault: FaultRule | undefined;
}

export interface FaultControls {
  /** Replaces the plan (validated like SIM_FAULTS; throws FaultPlanError). */
  set(plan: FaultPlan): void;
  clear(): void;
  /** The rules in force; `times` is what is left of each. */
  list(): FaultPlan;
}

export interface FaultController extends FaultControls {
  decide(target: FaultTarget): FaultDecision;
}

export function createFaultController(random: Random, initial: FaultPlan = []): FaultController {
  let rules: FaultRule[] = initial.map((rule) => ({ ...rule }));

  // Consumes one use of the rule when it fires, so `times` counts real firings.
  const fires = (rule: FaultRule): boolean => {
    if (rule.times === 0) return false;
    if (random() >= (rule.probability ?? 1)) return false;
    if (rule.times !== undefined) rule.times -= 1;
    return true;
  };

  return {
    set(plan) {
      rules = parseFaultPlan(plan);
    },
    clear() {
      rules = [];
    },
    list: () => rules.map((rule) => ({ ...rule })),
    decide(target) {
      let latencyMs = 0;
      let fault: FaultRule | undefined;
      for (const rule of rules) {
        if (rule.on !== target) continue;
        if (DELAY_KINDS.has(rule.kind)) {
          if (fires(rule)) latencyMs += rule.latencyMs ?? DEFAULT_LATENCY_MS;
        } else if (fault === undefined && fires(rule)) {
          fault = rule;
          latencyMs += rule.kind === "reorder" ? 0 : (rule.latencyMs ?? 0);
        }
      }
      return { latencyMs, fault: fault && { ...fault } };
    },
  };
}
