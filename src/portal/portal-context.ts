import type { FastifyRequest } from "fastify";
import { findCustomer } from "../customers/customer-view.ts";
import type { Customer, PortalSession } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { isFormTokenOf, issueFormToken } from "./form-token.ts";
import type { LayoutSession } from "./portal-layout.ts";
import { portalLocale } from "./portal-locale.ts";
import { findPortalSession } from "./portal-sessions.ts";
import { portalText, type PortalText } from "./portal-text.ts";

/** The cookie that holds a portal session's random id (only its hash is stored). */
export const PORTAL_COOKIE = "portal_session";

/** Who is asking, in which language: everything a portal page or action starts from. */
export interface PortalContext {
  sessionId: string;
  session: PortalSession;
  customer: Customer;
  text: PortalText;
  /** A fresh CSRF token for one form. */
  formToken(): string;
  /** The page frame's session part for the page at `path`. */
  layout(path: string): LayoutSession;
}

/** The request's live portal session, or undefined (no cookie, unknown or expired). */
export async function portalContext(deps: Pick<Deps, "db" | "clock" | "config">, request: FastifyRequest): Promise<PortalContext | undefined> {
  const sessionId = request.cookies[PORTAL_COOKIE];
  if (sessionId === undefined || !/^[A-Za-z0-9_-]{43}$/.test(sessionId)) return undefined;
  const session = await findPortalSession(deps.db, sessionId, deps.clock.now());
  if (session === undefined) return undefined;
  const customer = await findCustomer(deps.db, session.customer_id);
  if (customer === undefined) return undefined;
  const formToken = () => issueFormToken(sessionId);
  return {
    sessionId,
    session,
    customer,
    text: portalText(portalLocale(session.locale), deps.config.billingTimezone),
    formToken,
    layout: (path) => ({ formToken: formToken(), returnUrl: session.return_url, path }),
  };
}

/** The CSRF token a form was posted with, when it is one of this session's. */
export function postedFormToken(context: PortalContext, request: FastifyRequest): string | undefined {
  const body = request.body as Record<string, unknown> | undefined;
  const token = body?.csrf;
  return isFormTokenOf(context.sessionId, token) ? token : undefined;
}

/** A text field of a posted form ("" when absent). */
export function formField(request: FastifyRequest, name: string): string {
  const value = (request.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" ? value : "";
}
