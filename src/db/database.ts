import type { ColumnType, Generated, Selectable } from "kysely";
import type { NoticeKind } from "../billing/dunning-policy.ts";
import type { AttentionCode } from "../billing/charge-codes.ts";
import type { InvoiceInfo } from "../billing/einvoice.ts";
import type { ProductDetail } from "../billing/product-details.ts";

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;

export type Interval = "day" | "week" | "month" | "year";

export interface PlansTable {
  id: string;
  name: string;
  amount: number;
  interval: Interval;
  interval_count: number;
  product_code: string;
  description: string;
  unit: string;
  trial_days: Generated<number>;
  self_service: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface CustomersTable {
  id: string;
  name: string;
  email: string;
  locale: Generated<string>;
  /** E-invoice (電子發票) details, validated (billing/einvoice.ts), sent with every charge. */
  invoice_info: ColumnType<InvoiceInfo | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type SubscriptionStatus = "incomplete" | "incomplete_expired" | "trialing" | "active" | "past_due" | "unpaid" | "canceled";

export interface SubscriptionsTable {
  id: string;
  customer_id: string;
  plan_id: string;
  status: SubscriptionStatus;
  success_url: string;
  failure_url: string;
  billing_anchor: Timestamp | null;
  current_cycle: Generated<number>;
  current_period_start: Timestamp | null;
  current_period_end: Timestamp | null;
  cancel_at_period_end: Generated<boolean>;
  canceled_at: Timestamp | null;
  ended_at: Timestamp | null;
  next_renewal_at: Timestamp | null;
  trial_days: ColumnType<number | null, number | null | undefined, number | null>;
  trial_start: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  trial_end: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  metadata: ColumnType<Record<string, string>, string | undefined, string>;
  pending_plan_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type CheckoutPurpose = "subscribe" | "update_card";

export interface CheckoutSessionsTable {
  id: string;
  subscription_id: string;
  purpose: CheckoutPurpose;
  custom_id: string;
  status: "open" | "completed" | "failed";
  failure_message: string | null;
  expires_at: Timestamp;
  completed_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface PaymentTokensTable {
  id: string;
  subscription_id: string;
  checkout_session_id: string;
  key_id: string;
  ciphertext: string;
  last4: string | null;
  status: "active" | "inactive";
  created_at: CreatedAt;
  deactivated_at: Timestamp | null;
}

export type InvoiceStatus = "open" | "paid" | "uncollectible" | "void";

export type InvoiceKind = "renewal" | "proration";

export interface InvoicesTable {
  id: string;
  subscription_id: string;
  kind: ColumnType<InvoiceKind, InvoiceKind | undefined, never>;
  /** A proration's plan: the switch it pays for takes effect when it is paid. */
  plan_id: ColumnType<string | null, string | null | undefined, never>;
  cycle: number;
  status: InvoiceStatus;
  amount: number;
  currency: Generated<string>;
  product_details: ColumnType<ProductDetail[], string, string>;
  period_start: Timestamp;
  period_end: Timestamp;
  next_attempt_at: Timestamp | null;
  attempt_count: Generated<number>;
  first_failed_at: Timestamp | null;
  dunning_deadline_at: Generated<Date | null>;
  last_failed_at: Generated<Date | null>;
  paid_at: Timestamp | null;
  /** Oen refused the merchant (configuration, K0001): held for ops, retried slowly, never dunned. */
  attention_code: ColumnType<AttentionCode | null, AttentionCode | null | undefined, AttentionCode | null>;
  attention_since: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** What was refunded of the invoice's own charge (never above `amount`; double-charge refunds excluded). */
  amount_refunded: Generated<number>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type AttemptStatus = "sending" | "succeeded" | "declined" | "unknown" | "not_found" | "failed";

export interface ChargeAttemptsTable {
  id: string;
  invoice_id: string;
  attempt_no: number;
  order_id: string;
  payment_token_id: string;
  amount: number;
  status: AttemptStatus;
  code: string | null;
  message: string | null;
  oen_transaction_hid: string | null;
  auth_code: string | null;
  lookup_count: Generated<number>;
  last_lookup_at: Timestamp | null;
  next_lookup_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: CreatedAt;
  resolved_at: Timestamp | null;
  /** The billing clock's now when the attempt was made (created_at is Postgres' wall clock). */
  clock_at: Timestamp;
}

export type RefundStatus = "pending" | "succeeded" | "failed" | "unknown";
/** Why money goes back: a request (API, CLI), a terminate, a double charge found, or a refund made in Oen's CRM. */
export type RefundCause = "requested" | "terminate" | "double_charge" | "crm";

export interface RefundsTable {
  id: string;
  invoice_id: string;
  /** Null for a duplicate Oen transaction of one orderId (no attempt row stands for it). */
  charge_attempt_id: string | null;
  /** The P-number refunded. */
  oen_transaction_hid: string;
  amount: number;
  reason: string | null;
  cause: RefundCause;
  status: RefundStatus;
  /** Null until the request is about to leave (committed before it does). */
  sent_at: Timestamp | null;
  code: string | null;
  message: string | null;
  lookup_count: Generated<number>;
  last_lookup_at: Timestamp | null;
  created_at: CreatedAt;
  resolved_at: Timestamp | null;
}

export interface AuditLogTable {
  id: Generated<string>;
  at: CreatedAt;
  actor: string;
  action: string;
  subscription_id: string | null;
  reason: string;
  detail: ColumnType<Record<string, unknown>, string | undefined, never>;
}

export type WebhookOutcome = "accepted" | "duplicate" | "rejected" | "binding_failed" | "ignored";

export interface OenWebhookEventsTable {
  id: Generated<string>;
  received_at: CreatedAt;
  purpose: string;
  oen_id: string | null;
  outcome: WebhookOutcome;
  reason: string | null;
  body: ColumnType<Record<string, unknown>, string, never>;
}

/** What a webhook that stored nothing was counted as (tallies and samples). */
export type WebhookTallyOutcome = "rejected" | "duplicate" | "ignored" | "refused";

/** Webhooks that stored nothing, counted per UTC day, purpose, outcome and reason. */
export interface OenWebhookTalliesTable {
  day: ColumnType<string, string, never>;
  purpose: string;
  outcome: WebhookTallyOutcome;
  reason: string;
  count: ColumnType<string, number, number>;
}

/** A bounded sample of those webhooks, for ops: never a token, never a whole body. */
export interface OenWebhookSamplesTable {
  id: Generated<string>;
  received_at: CreatedAt;
  source: string;
  purpose: string;
  oen_id: string | null;
  outcome: WebhookTallyOutcome;
  reason: string;
  body: ColumnType<Record<string, unknown>, string, never>;
}

export interface CardLinkPagesTable {
  id: Generated<string>;
  /** sha256 of the link's token: which link opened the page, without the link itself. */
  link_digest: string;
  opened_at: CreatedAt;
}

export interface WebhookInboxTable {
  id: Generated<string>;
  job_id: string;
  payload: ColumnType<Record<string, unknown>, string, never>;
  received_at: CreatedAt;
  relayed_at: Timestamp | null;
  processed_at: Generated<Date | null>;
}

export interface TestClockTable {
  id: number;
  offset_ms: ColumnType<string, number, number>;
  updated_at: UpdatedAt;
}

export interface IdempotencyKeysTable {
  key: string;
  request_hash: string;
  /** Null while the first request is still being answered. */
  status_code: number | null;
  response: ColumnType<unknown, string | null, string | null> | null;
  /** When the key was reserved; a retry that takes over a crashed reservation renews it. */
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** A customer's portal session; the cookie holds the random id, this row its SHA-256. */
export interface PortalSessionsTable {
  id_hash: string;
  customer_id: string;
  locale: string;
  /** Where "back" leads (the platform's page); null for a session opened from an email. */
  return_url: string | null;
  expires_at: Timestamp;
  created_at: CreatedAt;
}

export type ReconciliationStatus = "running" | "completed" | "failed";

export interface ReconciliationsTable {
  /** The Taipei calendar day, YYYY-MM-DD. */
  date: string;
  status: ReconciliationStatus;
  runs: Generated<number>;
  started_at: Timestamp;
  finished_at: Timestamp | null;
  counts: ColumnType<Record<string, number> | null, string | null | undefined, string | null>;
  differences: ColumnType<Array<Record<string, unknown>> | null, string | null | undefined, string | null>;
  error: string | null;
  event_id: string | null;
}

export interface Database {
  plans: PlansTable;
  customers: CustomersTable;
  subscriptions: SubscriptionsTable;
  checkout_sessions: CheckoutSessionsTable;
  payment_tokens: PaymentTokensTable;
  invoices: InvoicesTable;
  charge_attempts: ChargeAttemptsTable;
  refunds: RefundsTable;
  audit_log: AuditLogTable;
  oen_webhook_events: OenWebhookEventsTable;
  oen_webhook_tallies: OenWebhookTalliesTable;
  oen_webhook_samples: OenWebhookSamplesTable;
  card_link_pages: CardLinkPagesTable;
  webhook_inbox: WebhookInboxTable;
  test_clock: TestClockTable;
  idempotency_keys: IdempotencyKeysTable;
  notices: NoticesTable;
  platform_events: PlatformEventsTable;
  portal_sessions: PortalSessionsTable;
  reconciliations: ReconciliationsTable;
  platform_event_attempts: PlatformEventAttemptsTable;
}

export type Plan = Selectable<PlansTable>;
export type Customer = Selectable<CustomersTable>;
export type Subscription = Selectable<SubscriptionsTable>;
export type CheckoutSession = Selectable<CheckoutSessionsTable>;
export type PaymentToken = Selectable<PaymentTokensTable>;
export type Invoice = Selectable<InvoicesTable>;
export type ChargeAttempt = Selectable<ChargeAttemptsTable>;
export type Refund = Selectable<RefundsTable>;
export type PortalSession = Selectable<PortalSessionsTable>;
export type Reconciliation = Selectable<ReconciliationsTable>;

/** skipped: not sent because its moment had passed by the time it could go (skip_reason says why). */
export type NoticeStatus = "pending" | "sent" | "failed" | "outbox" | "skipped";

type Nullable<T> = ColumnType<T | null, T | null | undefined, T | null>;

export interface NoticesTable {
  id: string;
  subscription_id: string;
  cycle: number;
  kind: NoticeKind;
  /** The facts the decision established (NoticeData without its kind, dates as ISO 8601); null on rows from before intents. */
  data: ColumnType<Record<string, unknown> | null, string, never>;
  // The email as last rendered (at send time), kept for ops; null until the first attempt.
  locale: Nullable<string>;
  to_email: Nullable<string>;
  subject: Nullable<string>;
  text_body: Nullable<string>;
  html_body: Nullable<string>;
  status: Generated<NoticeStatus>;
  attempts: Generated<number>;
  last_error: string | null;
  /** When the next delivery attempt is due; null: as soon as a job runs. */
  next_attempt_at: Nullable<Date>;
  /** A delivery run holds the notice until then (wall clock), talking to SMTP outside any transaction. */
  claimed_until: Nullable<Date>;
  skip_reason: Nullable<string>;
  created_at: CreatedAt;
  sent_at: Timestamp | null;
}

/** An event's JSON body as delivered; src/events/platform-event.ts names the types. */
export interface StoredEventBody {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export type PlatformEventStatus = "pending" | "delivered" | "failed";

export interface PlatformEventsTable {
  id: string;
  type: string;
  dedupe_key: string;
  /** The fact as recorded (the event's data before the worker adds the subscription or invoice). */
  data: ColumnType<Record<string, unknown>, string, never>;
  /** The body delivered, built at the first delivery attempt and never changed after (every retry sends these bytes). */
  payload: ColumnType<StoredEventBody | null, string | null | undefined, string>;
  created_at: CreatedAt;
  status: Generated<PlatformEventStatus>;
  /** Every delivery attempt ever made. */
  attempts: Generated<number>;
  /** Attempts in the current retry schedule: a redelivery starts a new one. */
  retry_attempts: Generated<number>;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: Timestamp | null;
  /** A delivery run holds the event until then (wall clock), posting outside any transaction. */
  claimed_until: Nullable<Date>;
  delivered_at: Timestamp | null;
  /** When delivery was given up (status failed); the retention of a failed event counts from here. */
  failed_at: Nullable<Date>;
}

/** One delivery attempt of a platform event. */
export interface PlatformEventAttemptsTable {
  id: Generated<string>;
  event_id: string;
  at: Timestamp;
  /** The platform's HTTP status; null when no answer came (then `error` says why). */
  status_code: number | null;
  error: string | null;
  latency_ms: number;
}

export type Notice = Selectable<NoticesTable>;
export type PlatformEvent = Selectable<PlatformEventsTable>;
export type PlatformEventAttempt = Selectable<PlatformEventAttemptsTable>;
