import type { Deps } from "../deps.ts";
import type { Mailer } from "./create-mailer.ts";
import { lockNotice, markNoticeOutbox, markNoticeSent, recordNoticeFailure } from "./notice-repository.ts";
import { retryDelayMs, retryScheduleSpanning, type RetrySchedule } from "./retry-schedule.ts";

/** 30 s doubling to 30 min, for over two hours: longer SMTP trouble needs an operator anyway. */
export const NOTICE_RETRY: RetrySchedule = retryScheduleSpanning(30_000, 30 * 60_000, 2 * 3_600_000);

export type NoticeOutcome =
  | { kind: "sent" }
  | { kind: "outbox" }
  | { kind: "skipped"; reason: string }
  | { kind: "retry"; delayMs: number; error: string }
  | { kind: "failed"; error: string };

/**
 * One delivery attempt of a pending notice. The row stays locked while SMTP
 * talks and is marked sent in the same transaction right after the server
 * accepts, so a second run (duplicate job, sweep) finds it sent and does
 * nothing; only a crash between acceptance and commit can send it twice.
 * Without a mailer (no SMTP_URL) the notice is kept as `outbox` and logged.
 */
export async function sendNotice(
  deps: Pick<Deps, "db" | "clock" | "logger">,
  mailer: Mailer | null,
  noticeId: string,
  schedule: RetrySchedule = NOTICE_RETRY,
): Promise<NoticeOutcome> {
  return deps.db.transaction().execute(async (tx): Promise<NoticeOutcome> => {
    const notice = await lockNotice(tx, noticeId);
    if (notice === undefined) return { kind: "skipped", reason: "missing, or being sent by another run" };
    if (notice.status !== "pending") return { kind: "skipped", reason: `already ${notice.status}` };
    const about = { noticeId, kind: notice.kind, subscriptionId: notice.subscription_id, cycle: notice.cycle };
    if (mailer === null) {
      await markNoticeOutbox(tx, notice.id);
      deps.logger.info({ ...about, to: notice.to_email, subject: notice.subject, text: notice.text_body }, "SMTP_URL is not set: notice kept in the outbox, not sent");
      return { kind: "outbox" };
    }
    try {
      await mailer.send({ id: notice.id, to: notice.to_email, subject: notice.subject, text: notice.text_body, html: notice.html_body });
    } catch (cause) {
      const error = (cause as Error).message;
      const delayMs = retryDelayMs(schedule, notice.attempts + 1);
      await recordNoticeFailure(tx, notice.id, delayMs === null ? "failed" : "pending", error);
      if (delayMs !== null) {
        deps.logger.warn({ ...about, attempt: notice.attempts + 1, retryInMs: delayMs, err: error }, "notice not sent; will retry");
        return { kind: "retry", delayMs, error };
      }
      deps.logger.error({ ...about, attempts: notice.attempts + 1, err: error }, "NOTICE GIVEN UP: the SMTP server refused it on every attempt");
      return { kind: "failed", error };
    }
    await markNoticeSent(tx, notice.id, deps.clock.now());
    return { kind: "sent" };
  });
}
