import type { FastifyReply } from "fastify";

// Oen's response envelope (api/index.md "回應格式"): { code, data, message }.

/** An answer, computed when a request arrives and sent possibly later (see answer-with-faults.ts). */
export interface Answer {
  httpStatus: number;
  body: object;
  /** A charge (paid or declined) was recorded, or a refund made: only then do the `*_after_charge` / `*_after_refund` faults apply. */
  recorded?: boolean;
}

export function ok(data: object): Answer {
  return { httpStatus: 200, body: { code: "S0000", data, message: "" } };
}

/** An error answer; `extra` holds top-level additions such as C026's `retryable` or K0001's `detail`. */
export function refused(httpStatus: number, code: string, message: string, extra: Record<string, unknown> = {}): Answer {
  return { httpStatus, body: { code, data: {}, message, ...extra } };
}

export function sendAnswer(reply: FastifyReply, answer: Answer): FastifyReply {
  return reply.code(answer.httpStatus).send(answer.body);
}
