import { createHmac } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { jobIds, type TokenWebhookDelivery } from "../queues/jobs.ts";
import { derivedKey } from "../vault/derived-key.ts";
import type { Keyring } from "../vault/keyring.ts";
import { sealWebhookToken } from "../vault/token-cipher.ts";
import { cleanTokenDelivery } from "./clean-token-delivery.ts";
import { tokenWebhookVerdict, type TokenWebhookRules } from "./token-webhook-verdict.ts";
import type { IngressBatches } from "./ingress-batches.ts";
import { purposeClass } from "./webhook-count-labels.ts";
import type { WebhookTally } from "./webhook-tally.ts";

/**
 * A body the route let through: a purpose, and for a token webhook an id (a
 * bounded string). Every other field may be absent or of any type; the
 * delivery made of it is cleaned (cleanTokenDelivery).
 */
export type OenWebhookBody = { purpose: string; id?: string } & Record<string, unknown>;

export interface AcceptDeps {
  /** The page lookup and the two stores, shared with the webhooks arriving at the same time. */
  batches: IngressBatches;
  keyring: Keyring;
  clock: Clock;
  rules: TokenWebhookRules;
  tally: WebhookTally;
  logger: Pick<Logger, "warn" | "error">;
}

export type AcceptOutcome =
  /** storedIn: the store that kept it first (the other may still be writing it). */
  | { kind: "stored"; jobId: string; storedIn: "queue" | "postgres" }
  /** Nothing stored: counted (and perhaps sampled) as what it was. */
  | { kind: "counted"; outcome: "rejected" | "duplicate" | "ignored"; reason: string };

const JOB_ID_DIGEST = "oen-webhook-job-id";

export class WebhookNotStoredError extends Error {
  override name = "WebhookNotStoredError";
}

/**
 * Takes a delivered webhook, answering within Oen's 10 s. A token webhook for
 * a page we opened (its id, merchantId and customId ours, the page open and
 * recent: tokenWebhookVerdict) is made durable before we answer 2xx
 * (invariant 2): to Postgres (webhook_inbox, the copy no Redis failure can take
 * away) and to Redis (the delivery under the key its job names, and the job,
 * which holds ids only), both at once; the first to keep it is enough. The
 * page lookup and the stores are shared with the webhooks arriving together
 * (IngressBatches), each answered on its own outcome. Its token is sealed here
 * for that page, so it never enters a store in cleartext nor opens for another
 * page. Anything else (a forgery, junk, a repeat about a finished page, a
 * purpose we do not act on) stores nothing: it is counted and sampled
 * (WebhookTally). When Postgres cannot say whether the page is ours, the
 * webhook is stored all the same (Redis, then). Throws WebhookNotStoredError
 * when no store took a webhook that needed one: the caller answers 503 so that
 * Oen tries again.
 */
export async function acceptOenWebhook(deps: AcceptDeps, body: OenWebhookBody, source: { address: string; bytes: number }): Promise<AcceptOutcome> {
  const sample = { source: source.address, purpose: body.purpose, body, bytes: source.bytes };
  if (body.purpose !== "token") {
    const counted = { outcome: "ignored", reason: "purpose_not_acted_on" } as const;
    deps.tally.count({ purpose: purposeClass(body.purpose), ...counted }, sample);
    return { kind: "counted", ...counted };
  }
  const { id, merchantId, customId, success, token, paymentInfo, message } = body;
  const delivery = cleanTokenDelivery({ kind: "token", checkoutId: id, merchantId, customId, success, last4: paymentInfo, message, sealedToken: null, receivedAt: deps.clock.now().toISOString() });
  const session = await deps.batches.findPage(delivery.checkoutId).catch((error: Error) => {
    deps.logger.warn({ checkoutId: delivery.checkoutId, err: error.message }, "cannot tell whether the webhook's page is ours (Postgres); storing it in Redis");
    return null;
  });
  if (session !== null) {
    const verdict = tokenWebhookVerdict(session, delivery, deps.rules, deps.clock.now());
    if (verdict.kind !== "apply") {
      const counted = verdict.kind === "duplicate" ? ({ outcome: "duplicate", reason: "checkout_finished" } as const) : ({ outcome: "rejected", reason: verdict.reason } as const);
      deps.tally.count({ purpose: "token", ...counted }, sample);
      return { kind: "counted", ...counted };
    }
  }
  const sealed = { ...delivery, sealedToken: typeof token === "string" && token !== "" ? sealWebhookToken(deps.keyring, token, delivery.checkoutId) : null };
  // Readable in Bull Board, but only characters a job id may hold: the digest keeps it unique.
  const label = delivery.checkoutId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
  const jobId = jobIds.tokenWebhook(label, contentDigest(deps.keyring, [id, merchantId, customId, success, token, paymentInfo, message]));
  return { kind: "stored", jobId, storedIn: await store(deps, jobId, sealed) };
}

// Whichever store keeps it first is enough to answer (invariant 2); the other goes on writing
// meanwhile (its own timeout bounds it), and is logged when it failed.
async function store(deps: AcceptDeps, jobId: string, delivery: TokenWebhookDelivery): Promise<"queue" | "postgres"> {
  const queued = deps.batches.queueInRedis({ jobId, delivery }).then(() => "queue" as const);
  const kept = deps.batches.keepInPostgres({ jobId, delivery }).then(() => "postgres" as const);
  const reason = (result: PromiseSettledResult<unknown>) => (result.status === "rejected" ? (result.reason as Error).message : null);
  void Promise.allSettled([queued, kept]).then(([redis, postgres]) => {
    if ((redis.status === "rejected") !== (postgres.status === "rejected")) deps.logger.warn({ jobId, redis: reason(redis), postgres: reason(postgres) }, "webhook kept in one store only");
  });
  try {
    return await Promise.any([queued, kept]);
  } catch (error) {
    const [redis, postgres] = (error as AggregateError).errors as Error[];
    deps.logger.error({ jobId, redis: redis?.message, postgres: postgres?.message }, "webhook could not be stored anywhere; answering 503 so Oen retries");
    throw new WebhookNotStoredError("neither Redis nor Postgres accepted the webhook");
  }
}

/**
 * Identical deliveries (Oen's retries, duplicates) share a job id and are one
 * job; any other body gets its own, so a forged webhook that reuses a genuine
 * checkout id cannot take the job id of the genuine one. Keyed (HKDF from the
 * first token key, for this purpose only), so the id says nothing about the
 * token it covers.
 */
function contentDigest(keyring: Keyring, value: unknown): string {
  return createHmac("sha256", derivedKey(keyring, keyring.primaryId, JOB_ID_DIGEST)!).update(JSON.stringify(value)).digest("hex").slice(0, 32);
}
