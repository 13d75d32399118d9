import type { FastifyInstance, FastifyReply } from "fastify";
import { verifyCardUpdateToken, type CardUpdateTokenCheck } from "../../checkout/card-update-link.ts";
import { startCardUpdate, startCardUpdateFromLink, type LinkCardUpdateStart } from "../../checkout/start-card-update.ts";
import type { Deps } from "../../deps.ts";
import { OenError } from "../../oen/errors.ts";
import { requireApiKey } from "../api-key-auth.ts";
import { errorResponse, httpUrl, idParams } from "./schemas.ts";

type Failure = Exclude<LinkCardUpdateStart, { kind: "started" }>["kind"] | Extract<CardUpdateTokenCheck, { ok: false }>["reason"] | "oen_unavailable";

interface FailurePage {
  status: number;
  zh: [title: string, text: string];
  en: [title: string, text: string];
}

const INVALID_LINK: FailurePage = {
  status: 403,
  zh: ["連結無效", "這個更新卡片的連結不完整或已被修改，請使用通知信中的完整連結。"],
  en: ["Invalid link", "This card-update link is incomplete or has been altered. Please use the full link from your email."],
};

// The customer reads these in a browser, in either language we write.
const PAGES: Record<Failure, FailurePage> = {
  malformed: INVALID_LINK,
  bad_signature: INVALID_LINK,
  unknown_key: {
    status: 410,
    zh: ["連結已失效", "這個更新卡片的連結已失效，請使用最新通知信中的連結。"],
    en: ["This link no longer works", "This card-update link is no longer valid. Please use the link in our most recent email."],
  },
  expired: {
    status: 410,
    zh: ["連結已過期", "這個更新卡片的連結已過期，請使用最新通知信中的連結。"],
    en: ["This link has expired", "This card-update link has expired. Please use the link in our most recent email."],
  },
  not_found: {
    status: 404,
    zh: ["找不到訂閱", "這個連結所屬的訂閱不存在。"],
    en: ["Subscription not found", "The subscription this link belongs to does not exist."],
  },
  not_updatable: {
    status: 409,
    zh: ["無法更新卡片", "這個訂閱已結束或尚未開始，無法更新付款卡片。"],
    en: ["The card cannot be updated", "This subscription has ended or has not started, so its card cannot be updated."],
  },
  link_superseded: {
    status: 410,
    zh: ["連結已失效", "這封通知信之後卡片已經更換過了，不需要再更新。如需再次更換，請使用最新通知信中的連結。"],
    en: ["This link no longer works", "The card has already been replaced since this email was sent. To change it again, please use the link in our most recent email."],
  },
  link_exhausted: {
    status: 429,
    zh: ["請稍後再試", "這個連結在一小時內已開啟多次付款頁面，請一小時後再試。"],
    en: ["Please try again later", "This link has opened several card pages in the last hour. Please try again in an hour."],
  },
  oen_unavailable: {
    status: 502,
    zh: ["暫時無法開啟付款頁面", "請稍後再試一次。"],
    en: ["The card page is unavailable", "We could not open the card page right now. Please try again in a few minutes."],
  },
};

function failurePage(reply: FastifyReply, failure: Failure): FastifyReply {
  const { status, zh, en } = PAGES[failure];
  const html = `<!DOCTYPE html>
<html lang="zh-TW"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${zh[0]} / ${en[0]}</title></head>
<body style="font-family: sans-serif; line-height: 1.6; max-width: 36em; margin: 3em auto; padding: 0 1em;">
<h1>${zh[0]}</h1><p>${zh[1]}</p>
<h1 lang="en">${en[0]}</h1><p lang="en">${en[1]}</p>
</body></html>`;
  return reply.code(status).type("text/html; charset=utf-8").send(html);
}

const paymentMethodBody = {
  type: "object",
  additionalProperties: false,
  required: ["successUrl", "failureUrl"],
  properties: { successUrl: httpUrl, failureUrl: httpUrl },
} as const;

const checkoutResponse = {
  type: "object",
  properties: { checkoutUrl: { type: "string" }, checkoutExpiresAt: { type: "string", format: "date-time" } },
} as const;

/**
 * Replacing a subscription's card: the link in our emails (no bearer, its
 * signature is the authorization; a few pages an hour, and only until a card is
 * bound after it was sent) and the platform's API call. Both open a fresh Oen
 * page, which lives 10 minutes.
 */
export async function paymentMethodRoutes(app: FastifyInstance, deps: Deps) {
  app.get<{ Params: { token: string } }>(
    "/billing/card/:token",
    {
      schema: {
        summary: "The card-update link of our emails: opens a fresh Oen page and redirects to it",
        tags: ["customer"],
        security: [],
        // Loose on purpose: a mangled link gets the customer page below, not a JSON 400.
        params: { type: "object", required: ["token"], properties: { token: { type: "string", maxLength: 512 } } },
        response: {
          302: { description: "to the fresh Oen page (Location)", type: "null" },
          ...Object.fromEntries([...new Set(Object.values(PAGES).map((page) => page.status))].map((status) => [status, { description: "a page for the customer saying what to do", content: { "text/html": { schema: { type: "string" } } } }])),
        },
      },
    },
    async (request, reply) => {
      // The token must not leak to Oen through Referer, nor a page be replayed from a cache.
      reply.header("cache-control", "no-store").header("referrer-policy", "no-referrer");
      const check = verifyCardUpdateToken(deps.config, request.params.token, deps.clock.now());
      if (!check.ok) {
        request.log.info({ reason: check.reason }, "card-update link refused");
        return failurePage(reply, check.reason);
      }
      try {
        const started = await startCardUpdateFromLink(deps, check);
        if (started.kind !== "started") return failurePage(reply, started.kind);
        return reply.redirect(started.checkout.checkoutUrl, 302);
      } catch (error) {
        if (!(error instanceof OenError)) throw error;
        request.log.error({ err: error.message, subscriptionId: check.subscriptionId }, "Oen refused to open a card-update page");
        return failurePage(reply, "oen_unavailable");
      }
    },
  );

  app.post<{ Params: { id: string }; Body: { successUrl: string; failureUrl: string } }>(
    "/v1/subscriptions/:id/payment-method",
    {
      onRequest: requireApiKey(deps.config.billingApiKeys),
      schema: {
        summary: "Open a page where the customer replaces the subscription's card (valid 10 minutes)",
        tags: ["subscriptions"],
        params: idParams,
        body: paymentMethodBody,
        response: { 200: checkoutResponse, 404: errorResponse, 409: errorResponse, 502: errorResponse },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      try {
        const started = await startCardUpdate(deps, id, request.body);
        if (started.kind === "not_found") return reply.code(404).send({ error: "not_found", message: `subscription "${id}" does not exist` });
        if (started.kind === "not_updatable") {
          return reply.code(409).send({ error: "not_updatable", message: `subscription is ${started.status}; only an active, past_due or unpaid subscription can change its card` });
        }
        return { checkoutUrl: started.checkout.checkoutUrl, checkoutExpiresAt: started.checkout.expiresAt.toISOString() };
      } catch (error) {
        if (!(error instanceof OenError)) throw error;
        request.log.error({ err: error.message, subscriptionId: id }, "Oen refused to open a card-update page");
        return reply.code(502).send({ error: "oen_unavailable", message: "Oen could not open a card page; try again later" });
      }
    },
  );
}
