import type { FastifyReply, FastifyRequest } from "fastify";
import type { Db } from "../db/connect.ts";
import { completeIdempotencyKey, releaseIdempotencyKey, requestHash, reserveIdempotencyKey } from "./idempotency.ts";

export interface IdempotentAnswer {
  statusCode: number;
  body: unknown;
}

export type OnceOutcome =
  | { kind: "answered"; answer: IdempotentAnswer; replayed: boolean }
  /** The first request with this key is still being answered. */
  | { kind: "in_progress" }
  /** The key was used with another request. */
  | { kind: "mismatch" };

export const idempotencyKeyHeader = { "idempotency-key": { type: "string", pattern: "^[A-Za-z0-9_:.-]{1,255}$" } } as const;

/**
 * Runs `run` at most once per (scope, key): a retry with the same request
 * gets the first answer again, another request under the same key is a
 * mismatch. An answer of 5xx (nothing done we could repeat), or a throw,
 * frees the key for a retry.
 */
export async function runOnce(db: Db, scope: string, key: string, request: unknown, run: () => Promise<IdempotentAnswer>): Promise<OnceOutcome> {
  const replay = await reserveIdempotencyKey(db, scope, key, requestHash(request));
  if (replay.kind === "replay") return { kind: "answered", answer: { statusCode: replay.statusCode, body: replay.response }, replayed: true };
  if (replay.kind !== "first") return replay;
  let answer: IdempotentAnswer;
  try {
    answer = await run();
  } catch (error) {
    await releaseIdempotencyKey(db, scope, key);
    throw error;
  }
  if (answer.statusCode >= 500) await releaseIdempotencyKey(db, scope, key);
  else await completeIdempotencyKey(db, scope, key, answer.statusCode, answer.body);
  return { kind: "answered", answer, replayed: false };
}

/**
 * Runs a route that moves money or state at most once per Idempotency-Key:
 * a retry with the same key and body gets the first answer again (marked
 * `idempotent-replayed`), the same key with another body 422, a retry while
 * the first is still running 409. `required` answers 400 without a key. An
 * answer of 5xx (nothing done we could repeat) frees the key for a retry.
 */
export async function idempotent(
  db: Db,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { scope: string; required: boolean },
  run: () => Promise<IdempotentAnswer>,
): Promise<FastifyReply> {
  const key = request.headers["idempotency-key"];
  if (typeof key !== "string") {
    if (options.required) return reply.code(400).send({ error: "idempotency_key_required", message: "the Idempotency-Key header is required on this route" });
    const answer = await run();
    return reply.code(answer.statusCode).send(answer.body);
  }
  // The key is the caller's: scoped by route and target, it cannot replay another resource's answer.
  const scope = `${options.scope}:${request.url.split("?")[0]}`;
  const outcome = await runOnce(db, scope, key, request.body ?? null, run);
  if (outcome.kind === "in_progress") return reply.code(409).send({ error: "request_in_progress", message: "a request with this Idempotency-Key is still being answered; retry shortly" });
  if (outcome.kind === "mismatch") return reply.code(422).send({ error: "idempotency_key_reused", message: "this Idempotency-Key was used with a different request body" });
  if (outcome.replayed) reply.header("idempotent-replayed", "true");
  return reply.code(outcome.answer.statusCode).send(outcome.answer.body);
}
