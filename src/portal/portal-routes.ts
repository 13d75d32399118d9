import cookie from "@fastify/cookie";
import formbody from "@fastify/formbody";
import helmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";
import type { Deps } from "../deps.ts";
import { findCustomer } from "../customers/customer-view.ts";
import { portalActionRoutes } from "./portal-action-routes.ts";
import { PORTAL_COOKIE, formField, portalContext, postedFormToken } from "./portal-context.ts";
import { PORTAL_CSS } from "./portal-css.ts";
import { verifyPortalToken } from "./portal-link.ts";
import { PORTAL_LOCALES, portalLocale, type PortalLocale } from "./portal-locale.ts";
import { portalPageRoutes } from "./portal-page-routes.ts";
import { sendProblem } from "./portal-reply.ts";
import { PORTAL_SESSION_TTL_MS, setPortalSessionLocale, startPortalSession } from "./portal-sessions.ts";

// Where the language switch may send the customer back to: a portal page, never elsewhere.
const PORTAL_PATH = /^\/portal(\/[A-Za-z0-9_/-]*)?(\?[A-Za-z0-9_=&%.-]*)?$/;

/**
 * The customer portal (DESIGN.md "Customer portal"), registered under
 * /portal: the signed entry link that starts a session, the pages, and the
 * actions. Server-rendered, no script; every page carries the security
 * headers (a CSP without script, no framing, no referrer).
 */
export async function portalRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const secure = deps.config.publicUrl.startsWith("https:");
  await app.register(cookie);
  await app.register(formbody);
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        baseUri: ["'none'"],
        // The card form redirects to Oen's hosted page: CSP checks a form's redirects too.
        formAction: ["'self'", new URL(deps.config.oen.hostedUrl).origin],
        frameAncestors: ["'none'"],
        ...(secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    referrerPolicy: { policy: "no-referrer" },
    frameguard: { action: "deny" },
    hsts: secure,
  });
  app.setNotFoundHandler(async (request, reply) => sendProblem(reply, deps, (await portalContext(deps, request)) ?? null, "not_found"));

  app.get("/assets/portal.css", { schema: { hide: true } }, async (_request, reply) => reply.header("cache-control", "public, max-age=3600").type("text/css; charset=utf-8").send(PORTAL_CSS));

  // GET only: a HEAD (a mail scanner checking the link) starts no session.
  app.get<{ Querystring: { token?: string } }>("/enter", { schema: { hide: true }, exposeHeadRoute: false }, async (request, reply) => {
    const check = verifyPortalToken(deps.config, request.query.token ?? "", deps.clock.now());
    if (!check.ok) {
      request.log.info({ reason: check.reason }, "portal link refused");
      return sendProblem(reply, deps, null, check.reason === "expired" || check.reason === "unknown_key" ? "link_expired" : "link_invalid");
    }
    const { entry } = check;
    const customer = await findCustomer(deps.db, entry.customerId);
    if (customer === undefined) return sendProblem(reply, deps, null, "link_invalid");
    const started = await startPortalSession(deps.db, { customerId: customer.id, locale: entry.locale ?? portalLocale(customer.locale), returnUrl: entry.returnUrl }, deps.clock.now());
    request.log.info({ customerId: customer.id }, "portal session started");
    // To a clean URL: the link's secret leaves the address bar (and the history).
    return reply
      .setCookie(PORTAL_COOKIE, started.sessionId, { path: "/portal", httpOnly: true, sameSite: "lax", secure, maxAge: PORTAL_SESSION_TTL_MS / 1000 })
      .header("cache-control", "no-store")
      .redirect(entry.subscriptionId === null ? "/portal" : `/portal/subscriptions/${entry.subscriptionId}`, 303);
  });

  app.post("/locale", { schema: { hide: true } }, async (request, reply) => {
    const context = await portalContext(deps, request);
    if (context === undefined) return sendProblem(reply, deps, null, "no_session");
    if (postedFormToken(context, request) === undefined) return sendProblem(reply, deps, context, "bad_form");
    const locale = formField(request, "locale");
    if (PORTAL_LOCALES.includes(locale as PortalLocale)) await setPortalSessionLocale(deps.db, context.sessionId, locale as PortalLocale);
    const back = formField(request, "back");
    return reply.redirect(PORTAL_PATH.test(back) ? back : "/portal", 303);
  });

  await app.register(portalPageRoutes, deps);
  await app.register(portalActionRoutes, deps);
}
