import type { SealedToken } from "../vault/token-cipher.ts";

// Job data holds ids only, never a secret, sealed or not (invariant 4): Bull Board shows it.

/**
 * A token webhook as it arrived, cleaned (cleanTokenDelivery), its token
 * sealed for the checkout page it names. Kept in Postgres (webhook_inbox) and
 * in Redis (the key its job's id names), never in the job itself.
 */
export interface TokenWebhookDelivery {
  kind: "token";
  checkoutId: string;
  merchantId: string;
  customId: string | null;
  success: boolean;
  last4: string | null;
  message: string | null;
  sealedToken: SealedToken | null;
  /** When our ingress took it (the billing clock): a page's late-delivery margin is counted to this. */
  receivedAt: string;
}

/** The job of a token webhook: which page it is about; its delivery is found by the job's id. */
export interface TokenWebhookJob {
  kind: "token";
  checkoutId: string;
}

/** A webhook of a purpose we do not act on, kept by versions before 2026-12 (now only counted). */
export interface LegacyOtherWebhookJob {
  kind: "other";
  purpose: string;
}

export type WebhookJob = TokenWebhookJob | LegacyOtherWebhookJob;

/** The job of a delivery kept in Postgres: ids only (rows of versions before 2026-12 hold whole jobs, other purposes too). */
export function webhookJobFor(delivery: Record<string, unknown>): WebhookJob {
  if (delivery.kind === "other") return { kind: "other", purpose: String(delivery.purpose ?? "") };
  return { kind: "token", checkoutId: String(delivery.checkoutId ?? "") };
}

export interface ChargeJob {
  invoiceId: string;
  // For Bull Board only (the worker reads the invoice): which cycle, and the attempt this job makes.
  cycle?: number;
  attempt?: number;
}

export interface ResolveAttemptJob {
  attemptId: string;
}

export interface RefundJob {
  refundId: string;
  // For Bull Board only (the worker reads the refund).
  invoiceId?: string;
  cause?: string;
  amount?: number;
}

/** The renewal scheduler's tick (runSweep). */
export type SweepJob = Record<string, never>;

/** The daily reconciliation of one Taipei day, YYYY-MM-DD. */
export interface ReconcileJob {
  date: string;
}

export type RenewalsJob = SweepJob | ReconcileJob;

export interface NoticeJob {
  noticeId: string;
}

export interface PlatformEventJob {
  eventId: string;
}

export type NotificationJob = NoticeJob | PlatformEventJob;

/** BullMQ job ids must not contain ":"; every id here is built from our own [a-z0-9_-] ids. */
export const jobIds = {
  charge: (invoiceId: string, attemptCount: number) => `charge-${invoiceId}-a${attemptCount}`,
  resolve: (attemptId: string) => `resolve-${attemptId}`,
  // The refund's state is in the id, so a run that moved it on can enqueue its next step.
  refund: (refundId: string, status: string, lookupCount: number) => `refund-${refundId}-${status}-l${lookupCount}`,
  tokenWebhook: (checkoutId: string, digest: string) => `oen-token-${checkoutId}-${digest}`,
  notice: (noticeId: string) => `notice-${noticeId}`,
  event: (eventId: string) => `event-${eventId}`,
  reconcile: (date: string) => `reconcile-${date}`,
};
