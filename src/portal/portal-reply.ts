import type { FastifyReply } from "fastify";
import type { Deps } from "../deps.ts";
import { problemPage } from "./pages/problem-page.ts";
import type { PortalContext } from "./portal-context.ts";
import { PROBLEM_STATUS, type PortalProblem } from "./portal-text.ts";

/** A portal page: HTML, never cached (it shows a customer's own data). */
export function sendPage(reply: FastifyReply, status: number, markup: string): FastifyReply {
  return reply.code(status).header("cache-control", "no-store").type("text/html; charset=utf-8").send(markup);
}

/** The page of a problem, in the session's language (or both, without a session). */
export function sendProblem(reply: FastifyReply, deps: Pick<Deps, "config">, context: PortalContext | null, problem: PortalProblem, status = PROBLEM_STATUS[problem]): FastifyReply {
  return sendPage(reply, status, problemPage(context?.text ?? null, problem, context?.layout("/portal") ?? null, deps.config.billingTimezone));
}
