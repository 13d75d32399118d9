import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";
import { ATTENTION_CODES, DECLINE_CODES, UNKNOWN_REASONS } from "../billing/charge-codes.ts";
import type { NoticeKind } from "../billing/dunning-policy.ts";
import type { RefundCause, RefundStatus, WebhookOutcome } from "../db/database.ts";
import { PLATFORM_EVENT_TYPES } from "../events/platform-event.ts";
import type { ChargeOutcome } from "../oen/types.ts";
import { TOKEN_WEBHOOK_REJECTIONS } from "../webhooks/token-webhook-verdict.ts";
import { PURPOSE_CLASSES, WEBHOOK_REFUSALS } from "../webhooks/webhook-count-labels.ts";
import type { TallyEntry } from "../webhooks/webhook-tally.ts";

// The instruments of work as it happens in THIS process (each replica counts
// its own; Prometheus sums them). A module singleton, one registry per
// process: the CLI and the reconciliation build Deps of their own, and the
// Oen client is built outside any Deps in places; none needs one threaded
// through. Gauges of what waits are read from Postgres at scrape time
// (src/ingress/routes/metrics-route.ts). Every known label value starts at 0,
// so that rate() and absent-series alerts work from the first scrape.

export const metricsRegistry = new Registry();
const registers = [metricsRegistry];

const WEBHOOK_OUTCOMES = ["accepted", "duplicate", "rejected", "binding_failed", "ignored"] as const satisfies readonly WebhookOutcome[];
const LOOKUP_VERDICTS = ["succeeded", "declined", "not_found", "pending", "oen_unavailable"] as const;
const REFUND_CAUSES = ["requested", "terminate", "double_charge", "crm"] as const satisfies readonly RefundCause[];
const REFUND_OUTCOMES = ["succeeded", "failed", "unknown"] as const satisfies readonly RefundStatus[];
const NOTICE_KINDS = ["payment_failed", "card_expired", "card_needs_replacing", "final_notice", "subscription_canceled", "renewal_reminder"] as const satisfies readonly NoticeKind[];
const NOTICE_OUTCOMES = ["sent", "outbox", "skipped", "retry", "failed"] as const;
const EVENT_OUTCOMES = ["delivered", "retry", "failed"] as const;
/** A declined renewal's next step: a later retry, a request for a new card, the final state; or a charge at once on a card replaced meanwhile. */
export const DUNNING_ACTIONS = ["retry", "await_new_card", "final", "new_card"] as const;
export type DunningAction = (typeof DUNNING_ACTIONS)[number];
/** What the daily reconciliation finds (DESIGN.md "Operations"). */
export const RECONCILIATION_DIFFERENCES = ["unknown_transaction", "missing_transaction", "crm_refund", "double_charge"] as const;
/** Oen's endpoints as templates (never a path with an id in it: one series per endpoint). */
export const OEN_ENDPOINTS = [
  "POST /checkout-token",
  "POST /token/transactions",
  "GET /order/:orderId/transactions",
  "GET /transactions/:id",
  "GET /transactions",
  "POST /refunds/:transactionHid",
] as const;
const OEN_RESULTS = ["ok", "client_error", "server_error", "timeout", "connection"] as const;
export type OenResult = (typeof OEN_RESULTS)[number];

const webhooks = new Counter({ name: "billing_webhooks_total", help: "Oen webhooks applied by the webhook worker, by outcome", labelNames: ["outcome"], registers });
const webhooksUnstored = new Counter({
  name: "billing_webhooks_unstored_total",
  help: "Oen webhooks the ingress answered without storing anything, by purpose, outcome (refused: the source or its rate; rejected: not for a page of ours; duplicate: the page finished; ignored: a purpose we do not act on) and reason",
  labelNames: ["purpose", "outcome", "reason"],
  registers,
});
const webhookAcceptance = new Histogram({
  name: "billing_webhook_acceptance_seconds",
  help: "Time from an Oen webhook's arrival to our answer (Oen waits 10 s), by HTTP status",
  labelNames: ["status"],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers,
});
const charges = new Counter({
  name: "billing_charges_total",
  help: "Charge requests answered by Oen, by outcome (succeeded, declined, refused, unknown) and code (decline or refusal code, or why unknown)",
  labelNames: ["outcome", "code"],
  registers,
});
const lookups = new Counter({ name: "billing_charge_lookups_total", help: "Order lookups of charge attempts whose outcome was unknown, by verdict", labelNames: ["verdict"], registers });
const refunds = new Counter({ name: "billing_refunds_total", help: "Refunds settled, by cause and outcome", labelNames: ["cause", "outcome"], registers });
const doubleChargesRefunded = new Counter({ name: "billing_double_charges_refunded_total", help: "Double charges (money taken twice, or for a void invoice) refunded (invariant 8)", registers });
const notices = new Counter({ name: "billing_notices_total", help: "Customer notice delivery attempts, by kind and outcome", labelNames: ["kind", "outcome"], registers });
const events = new Counter({ name: "billing_platform_event_deliveries_total", help: "Platform event delivery attempts, by type and outcome", labelNames: ["type", "outcome"], registers });
const dunningSteps = new Counter({ name: "billing_dunning_steps_total", help: "Dunning decisions after a declined charge, by action", labelNames: ["action"], registers });
const reconciliation = new Counter({ name: "billing_reconciliation_differences_total", help: "Differences the daily reconciliation found against Oen, by kind", labelNames: ["kind"], registers });
const oenRequests = new Histogram({
  name: "billing_oen_request_duration_seconds",
  help: "Latency of each request to Oen, by endpoint and result (Oen cuts a request at 29 s)",
  labelNames: ["endpoint", "result"],
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 40],
  registers,
});

for (const outcome of WEBHOOK_OUTCOMES) webhooks.inc({ outcome }, 0);
for (const reason of WEBHOOK_REFUSALS) webhooksUnstored.inc({ purpose: "unknown", outcome: "refused", reason }, 0);
for (const reason of TOKEN_WEBHOOK_REJECTIONS) webhooksUnstored.inc({ purpose: "token", outcome: "rejected", reason }, 0);
webhooksUnstored.inc({ purpose: "token", outcome: "duplicate", reason: "checkout_finished" }, 0);
for (const purpose of PURPOSE_CLASSES.filter((p) => p !== "token")) webhooksUnstored.inc({ purpose, outcome: "ignored", reason: "purpose_not_acted_on" }, 0);
for (const status of ["200", "503"]) webhookAcceptance.zero({ status });
charges.inc({ outcome: "succeeded", code: "none" }, 0);
for (const code of DECLINE_CODES) charges.inc({ outcome: "declined", code }, 0);
charges.inc({ outcome: "declined", code: "none" }, 0);
for (const code of ATTENTION_CODES) charges.inc({ outcome: "refused", code }, 0);
for (const code of UNKNOWN_REASONS) charges.inc({ outcome: "unknown", code }, 0);
for (const verdict of LOOKUP_VERDICTS) lookups.inc({ verdict }, 0);
for (const cause of REFUND_CAUSES) for (const outcome of REFUND_OUTCOMES) refunds.inc({ cause, outcome }, 0);
doubleChargesRefunded.inc(0);
for (const kind of NOTICE_KINDS) for (const outcome of NOTICE_OUTCOMES) notices.inc({ kind, outcome }, 0);
for (const type of PLATFORM_EVENT_TYPES) for (const outcome of EVENT_OUTCOMES) events.inc({ type, outcome }, 0);
for (const action of DUNNING_ACTIONS) dunningSteps.inc({ action }, 0);
for (const kind of RECONCILIATION_DIFFERENCES) reconciliation.inc({ kind }, 0);
for (const endpoint of OEN_ENDPOINTS) for (const result of OEN_RESULTS) oenRequests.zero({ endpoint, result });

let processMetricsStarted = false;

/** Count what work the process does; every function here is cheap and never throws. */
export const metrics = {
  /** The standard process_* and nodejs_* metrics, once per process (a second service in a test process shares them). */
  startProcessMetrics(): void {
    if (processMetricsStarted) return;
    processMetricsStarted = true;
    collectDefaultMetrics({ register: metricsRegistry });
  },
  webhookApplied(outcome: string): void {
    webhooks.inc({ outcome });
  },
  /** A webhook that stored nothing (WebhookTally counts it for Postgres too). */
  webhookCounted(entry: TallyEntry): void {
    webhooksUnstored.inc({ purpose: entry.purpose, outcome: entry.outcome, reason: entry.reason });
  },
  webhookAnswered(status: number, seconds: number): void {
    webhookAcceptance.observe({ status: String(status) }, seconds);
  },
  /** Oen's answer to a charge request, once the attempt is settled. */
  chargeAnswered(outcome: ChargeOutcome): void {
    const code = outcome.kind === "succeeded" ? "none" : outcome.kind === "unknown" ? outcome.reason : outcome.code;
    charges.inc({ outcome: outcome.kind, code });
  },
  chargeLookedUp(verdict: (typeof LOOKUP_VERDICTS)[number]): void {
    lookups.inc({ verdict });
  },
  /** A refund settled (by its answer, by lookup, or found in the CRM). */
  refundSettled(refund: { cause: RefundCause; status: RefundStatus }): void {
    if (refund.status === "pending") return;
    refunds.inc({ cause: refund.cause, outcome: refund.status });
    if (refund.cause === "double_charge" && refund.status === "succeeded") doubleChargesRefunded.inc();
  },
  noticeAttempted(kind: string, outcome: string): void {
    notices.inc({ kind, outcome });
  },
  eventAttempted(type: string, outcome: (typeof EVENT_OUTCOMES)[number]): void {
    events.inc({ type, outcome });
  },
  dunningStep(action: DunningAction): void {
    dunningSteps.inc({ action });
  },
  oenRequest(endpoint: string, result: OenResult, seconds: number): void {
    oenRequests.observe({ endpoint, result }, seconds);
  },
};

/**
 * For the daily reconciliation: `count` differences of one kind found in a
 * run (kinds: RECONCILIATION_DIFFERENCES; another kind gets its own series).
 */
export function countReconciliationDifference(kind: string, count = 1): void {
  reconciliation.inc({ kind }, count);
}
