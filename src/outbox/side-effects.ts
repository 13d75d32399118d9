import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { enqueueEvent } from "../events/enqueue-event.ts";
import { recordEvent, type RecordEventInput } from "../events/record-event.ts";
import { enqueueNotice } from "../notify/enqueue-notice.ts";
import type { NoticeData } from "../notify/notice-templates.ts";
import { queueNotice } from "../notify/queue-notice.ts";

/**
 * Notices and platform events decided inside a transaction (a transactional
 * outbox): written with the state change that caused them, enqueued once the
 * transaction committed. Whatever fails to enqueue is picked up by the sweep.
 */
export interface SideEffects {
  notice(db: Kysely<Database>, input: NoticeData & { subscriptionId: string; cycle: number }): Promise<void>;
  event(db: Kysely<Database>, input: RecordEventInput): Promise<void>;
  /** Call after the commit. */
  flush(): Promise<void>;
}

export function createSideEffects(deps: Pick<Deps, "queues" | "config" | "logger">): SideEffects {
  const notices: string[] = [];
  const events: string[] = [];
  return {
    async notice(db, input) {
      const id = await queueNotice(db, input);
      if (id !== undefined) notices.push(id);
    },
    async event(db, input) {
      const id = await recordEvent(db, input);
      if (id !== undefined) events.push(id);
    },
    async flush() {
      try {
        for (const id of notices.splice(0)) await enqueueNotice(deps, id);
        for (const id of events.splice(0)) await enqueueEvent(deps, id);
      } catch (error) {
        deps.logger.warn({ err: (error as Error).message }, "could not enqueue notices/events; the sweep will");
      }
    },
  };
}
