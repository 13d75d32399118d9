import type { Deps } from "../deps.ts";
import { claimDelivery } from "../outbox/claim-delivery.ts";
import { metrics } from "../metrics/metrics.ts";
import type { Notice } from "../db/database.ts";
import type { Mailer } from "./create-mailer.ts";
import { noticeDataFrom } from "./notice-data.ts";
import { noticeMail, type NoticeMail } from "./notice-mail.ts";
import { noticeMoot } from "./notice-moot.ts";
import { lockNotice, markNoticeOutbox, markNoticeSent, markNoticeSkipped, noticeContext, recordNoticeFailure, recordNoticeRendering } from "./notice-repository.ts";
import { retryDelayMs, retryScheduleSpanning, type RetrySchedule } from "./retry-schedule.ts";

/** 30 s doubling to an hour, for over four days: an SMTP outage over a long weekend loses no email. */
export const NOTICE_RETRY: RetrySchedule = retryScheduleSpanning(30_000, 3_600_000, 4 * 86_400_000);

export type NoticeOutcome =
  | { kind: "sent" }
  | { kind: "outbox" }
  /** Nothing sent: missing, not pending, or its moment has passed (then marked `skipped`). */
  | { kind: "skipped"; reason: string }
  /** The next attempt is not due yet (a job run early); nothing tried. */
  | { kind: "not_due"; delayMs: number }
  | { kind: "retry"; delayMs: number; error: string }
  | { kind: "failed"; error: string };

// How long a delivery run holds its notice: beyond any SMTP exchange (create-mailer's timeouts).
const SEND_CLAIM_MS = 120_000;

/**
 * One delivery attempt of a pending notice. It is rendered here, at send
 * time, from the intent stored with the decision (noticeMail), after checking
 * that it still applies (noticeMoot). The notice is claimed in a short
 * transaction (claimDelivery) and no transaction stays open while SMTP talks;
 * it is marked sent right after the server accepts, under that claim. A
 * second run (duplicate job, sweep) finds it claimed or sent and does
 * nothing; only a crash between acceptance and the record (or a send longer
 * than the claim) can send it twice. A failure is retried at a time stored on
 * the row, which the job and the sweep both follow. Without a mailer (no
 * SMTP_URL) the notice is kept as `outbox`, rendered, and logged.
 */
export async function sendNotice(
  deps: Pick<Deps, "db" | "clock" | "logger" | "config">,
  mailer: Mailer | null,
  noticeId: string,
  schedule: RetrySchedule = NOTICE_RETRY,
): Promise<NoticeOutcome> {
  const claim = await claimForSending(deps, mailer, noticeId);
  const outcome = claim.kind === "claimed" ? await send(deps, claim, schedule) : claim.outcome;
  // Counted once recorded: what the customer was (or was not) sent.
  const kind = claim.kind === "claimed" ? claim.notice.kind : claim.noticeKind;
  if (kind !== null) metrics.noticeAttempted(kind, outcome.kind);
  return outcome;
}

interface Claimed {
  kind: "claimed";
  notice: Notice;
  mail: NoticeMail;
  claimedUntil: Date;
  about: Record<string, unknown>;
  smtp: Mailer;
}

/** Talks to SMTP with no transaction open, then records the outcome under the claim. */
async function send(deps: Pick<Deps, "db" | "clock" | "logger">, claim: Claimed, schedule: RetrySchedule): Promise<NoticeOutcome> {
  const { notice, mail, claimedUntil, about, smtp } = claim;
  try {
    await smtp.send({ id: notice.id, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
  } catch (cause) {
    const error = (cause as Error).message;
    const delayMs = retryDelayMs(schedule, notice.attempts + 1);
    const now = deps.clock.now();
    await recordNoticeFailure(deps.db, notice.id, claimedUntil, { error, nextAttemptAt: delayMs === null ? null : new Date(now.getTime() + delayMs) });
    if (delayMs !== null) {
      deps.logger.warn({ ...about, attempt: notice.attempts + 1, retryInMs: delayMs, err: error }, "notice not sent; will retry");
      return { kind: "retry", delayMs, error };
    }
    deps.logger.error({ ...about, attempts: notice.attempts + 1, err: error }, "NOTICE GIVEN UP: the SMTP server refused it on every attempt");
    return { kind: "failed", error };
  }
  if (await markNoticeSent(deps.db, notice.id, deps.clock.now(), claimedUntil)) deps.logger.info(about, "notice sent");
  else deps.logger.warn(about, "notice sent after its claim had lapsed; another run may send it again");
  return { kind: "sent" };
}

/**
 * Decides, under the notice's lock, whether this run sends it, and if so
 * claims it and renders it; committed before SMTP is called. `noticeKind` is
 * set when the notice was due and this run decided its fate.
 */
async function claimForSending(
  deps: Pick<Deps, "db" | "clock" | "logger" | "config">,
  mailer: Mailer | null,
  noticeId: string,
): Promise<Claimed | { kind: "decided"; outcome: NoticeOutcome; noticeKind: string | null }> {
  const decided = (outcome: NoticeOutcome, noticeKind: string | null = null) => ({ kind: "decided" as const, outcome, noticeKind });
  return deps.db.transaction().execute(async (tx) => {
    const notice = await lockNotice(tx, noticeId);
    if (notice === undefined) return decided({ kind: "skipped", reason: "missing, or being sent by another run" });
    if (notice.status !== "pending") return decided({ kind: "skipped", reason: `already ${notice.status}` });
    const now = deps.clock.now();
    if (notice.next_attempt_at !== null && notice.next_attempt_at > now) return decided({ kind: "not_due", delayMs: notice.next_attempt_at.getTime() - now.getTime() });
    const claimedUntil = await claimDelivery(tx, "notices", notice.id, SEND_CLAIM_MS);
    if (claimedUntil === undefined) return decided({ kind: "skipped", reason: "being sent by another run" });
    const about = { noticeId, kind: notice.kind, subscriptionId: notice.subscription_id, cycle: notice.cycle };
    const context = await noticeContext(tx, notice);
    const data = notice.data === null ? null : noticeDataFrom(notice.kind, notice.data);
    const moot = noticeMoot(notice, data, context, now);
    if (moot !== null) {
      await markNoticeSkipped(tx, notice.id, moot);
      deps.logger.info({ ...about, reason: moot }, "notice skipped: its moment has passed");
      return decided({ kind: "skipped", reason: moot }, notice.kind);
    }
    const mail = data === null ? storedMail(notice) : noticeMail(deps.config, notice, data, context, now);
    await recordNoticeRendering(tx, notice.id, mail);
    if (mailer === null) {
      await markNoticeOutbox(tx, notice.id);
      deps.logger.info({ ...about, to: mail.to, subject: mail.subject, text: mail.text }, "SMTP_URL is not set: notice kept in the outbox, not sent");
      return decided({ kind: "outbox" }, notice.kind);
    }
    return { kind: "claimed" as const, notice, mail, claimedUntil, about, smtp: mailer };
  });
}

/** A notice stored before intents, rendered when it was queued: sent as it was written. */
function storedMail(notice: Notice): NoticeMail {
  return { locale: notice.locale === "en" ? "en" : "zh-TW", to: notice.to_email!, subject: notice.subject!, text: notice.text_body!, html: notice.html_body! };
}
