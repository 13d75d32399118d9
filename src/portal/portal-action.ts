import type { FastifyReply } from "fastify";
import type { Deps } from "../deps.ts";
import { runOnce, type OnceOutcome } from "../ingress/idempotent.ts";
import { formIdempotencyKey } from "./form-token.ts";
import type { PortalContext } from "./portal-context.ts";
import { sendProblem } from "./portal-reply.ts";
import type { PortalProblem } from "./portal-text.ts";

/** What an action answers, stored with its idempotency key: where to go next, or what went wrong. */
export type ActionAnswer = { status: 303; location: string } | { status: number; problem: PortalProblem };

// A double submit arrives while the first is still charging (Oen may take its 35 s):
// the second waits for the first's answer and shows it, rather than an error.
const WAIT_FOR_FIRST_MS = 40_000;
const POLL_MS = 250;

/**
 * Runs a portal action once per rendered form, through the API's idempotency
 * store: the key is derived from the form's CSRF token, so submitting one form
 * twice (a double click, a reload) is one effect and shows the first answer.
 * Scoped by action, customer and target; the request is what the form asked.
 */
export async function runPortalAction(
  deps: Pick<Deps, "db" | "config">,
  context: PortalContext,
  reply: FastifyReply,
  action: { name: string; target: string; formToken: string; request: unknown },
  run: () => Promise<ActionAnswer>,
): Promise<FastifyReply> {
  const scope = `portal-${action.name}:${context.customer.id}:${action.target}`;
  const key = formIdempotencyKey(action.formToken);
  const attempt = () =>
    runOnce(deps.db, scope, key, action.request, async () => {
      const answer = await run();
      return { statusCode: answer.status, body: answer };
    });
  let outcome: OnceOutcome = await attempt();
  const deadline = Date.now() + WAIT_FOR_FIRST_MS;
  while (outcome.kind === "in_progress" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    outcome = await attempt();
  }
  if (outcome.kind === "in_progress") return sendProblem(reply, deps, context, "in_progress");
  if (outcome.kind === "mismatch") return sendProblem(reply, deps, context, "already_submitted");
  const answer = outcome.answer.body as ActionAnswer;
  if ("location" in answer) return reply.header("cache-control", "no-store").redirect(answer.location, 303);
  return sendProblem(reply, deps, context, answer.problem, answer.status);
}
