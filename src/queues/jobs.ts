import type { SealedToken } from "../vault/token-cipher.ts";

// Job data holds ids and sealed values, never a cleartext secret (invariant 4).

export interface TokenWebhookJob {
  kind: "token";
  checkoutId: string;
  merchantId: string;
  customId: string | null;
  success: boolean;
  last4: string | null;
  message: string | null;
  sealedToken: SealedToken | null;
  receivedAt: string;
}

export interface OtherWebhookJob {
  kind: "other";
  purpose: string;
  oenId: string | null;
  body: Record<string, unknown>;
  receivedAt: string;
}

export type WebhookJob = TokenWebhookJob | OtherWebhookJob;

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
  otherWebhook: (digest: string) => `oen-other-${digest}`,
  notice: (noticeId: string) => `notice-${noticeId}`,
  event: (eventId: string) => `event-${eventId}`,
  reconcile: (date: string) => `reconcile-${date}`,
};
