import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Deps } from "../deps.ts";
import { listInvoices } from "../invoices/list-invoices.ts";
import { declineWords } from "./decline-words.ts";
import { invoiceInfoFormValues } from "./invoice-info-form.ts";
import { cancelPage } from "./pages/cancel-page.ts";
import { invoiceInfoPage } from "./pages/invoice-info-page.ts";
import { overviewPage } from "./pages/overview-page.ts";
import { planPage, type PlanChoice } from "./pages/plan-page.ts";
import { subscriptionPage } from "./pages/subscription-page.ts";
import { planSwitchPreview } from "./plan-switch-preview.ts";
import { portalContext, type PortalContext } from "./portal-context.ts";
import { sendPage, sendProblem } from "./portal-reply.ts";
import { loadCustomerSubscription, loadCustomerSubscriptions, type PortalSubscription } from "./portal-subscriptions.ts";
import type { PortalFlash } from "./portal-text.ts";
import { selfServicePlans } from "./self-service-plans.ts";

type Query = Record<string, string | undefined>;
type SubscriptionRequest = FastifyRequest<{ Params: { id: string }; Querystring: Query }>;

const ID = /^[A-Za-z0-9_-]{1,64}$/;
// After a new card, the page reloads itself (no script) while the open invoice is charged: 3 s apart, 30 s at most.
const CARD_REFRESH_SECONDS = 3;
const CARD_REFRESH_TIMES = 10;

function flashOf(context: PortalContext, item: PortalSubscription | null, query: Query): string | null {
  const flash = context.text.flash;
  if (query.card === "updated") return flash.card_updated({});
  if (query.card === "failed") return flash.card_failed({});
  const done = query.done as PortalFlash | undefined;
  if (done === undefined || !Object.hasOwn(flash, done)) return null;
  const subscription = item?.subscription;
  if (done === "plan_scheduled") return flash.plan_scheduled({ plan: item?.pendingPlan?.name ?? "", at: subscription?.current_period_end ?? null });
  return flash[done]({ plan: item?.plan.name ?? "", at: subscription?.next_renewal_at ?? subscription?.current_period_end ?? null });
}

const running = (item: PortalSubscription) => item.subscription.status === "active" || item.subscription.status === "trialing";

/** GET pages of the portal; each needs a live session and shows only the session's customer's data. */
export async function portalPageRoutes(app: FastifyInstance, deps: Deps) {
  /** The session and the customer's subscription of the URL; a reply (401, 404) when there is none. */
  async function subscriptionOf(request: SubscriptionRequest, reply: FastifyReply): Promise<{ context: PortalContext; item: PortalSubscription } | FastifyReply> {
    const context = await portalContext(deps, request);
    if (context === undefined) return sendProblem(reply, deps, null, "no_session");
    // Another customer's subscription is as absent as one that does not exist.
    const item = ID.test(request.params.id) ? await loadCustomerSubscription(deps.db, context.customer.id, request.params.id) : undefined;
    if (item === undefined) return sendProblem(reply, deps, context, "not_found");
    return { context, item };
  }

  app.get<{ Querystring: Query }>("/", { schema: { hide: true } }, async (request, reply) => {
    const context = await portalContext(deps, request);
    if (context === undefined) return sendProblem(reply, deps, null, "no_session");
    const subscriptions = await loadCustomerSubscriptions(deps.db, context.customer.id);
    return sendPage(reply, 200, overviewPage(context.text, context.layout(request.url), context.customer, subscriptions, flashOf(context, null, request.query)));
  });

  app.get<{ Params: { id: string }; Querystring: Query }>("/subscriptions/:id", { schema: { hide: true } }, async (request, reply) => {
    const found = await subscriptionOf(request, reply);
    if (!("item" in found)) return found;
    const { context, item } = found;
    const [invoices, plans] = await Promise.all([listInvoices(deps.db, item.subscription.id), selfServicePlans(deps.db, item.plan)]);
    const waited = Number(request.query.wait ?? 0);
    const charging = request.query.card === "updated" && item.openInvoice !== null && Number.isInteger(waited) && waited < CARD_REFRESH_TIMES;
    const page = subscriptionPage(context.text, context.layout(request.url), item, invoices, {
      flash: flashOf(context, item, request.query),
      canSwitchPlan: plans.length > 0,
      formToken: context.formToken,
      ...(charging ? { refresh: { seconds: CARD_REFRESH_SECONDS, url: `/portal/subscriptions/${item.subscription.id}?card=updated&wait=${waited + 1}` } } : {}),
    });
    return sendPage(reply, 200, page);
  });

  app.get<{ Params: { id: string }; Querystring: Query }>("/subscriptions/:id/cancel", { schema: { hide: true } }, async (request, reply) => {
    const found = await subscriptionOf(request, reply);
    if (!("item" in found)) return found;
    const { context, item } = found;
    if (!running(item) || item.subscription.cancel_at_period_end) return reply.redirect(`/portal/subscriptions/${item.subscription.id}`, 303);
    return sendPage(reply, 200, cancelPage(context.text, context.layout(request.url), item, context.formToken()));
  });

  app.get<{ Params: { id: string }; Querystring: Query }>("/subscriptions/:id/plan", { schema: { hide: true } }, async (request, reply) => {
    const found = await subscriptionOf(request, reply);
    if (!("item" in found)) return found;
    const { context, item } = found;
    if (!running(item) || item.subscription.cancel_at_period_end) return sendProblem(reply, deps, context, "not_possible");
    const plans = await selfServicePlans(deps.db, item.plan);
    const chosen = plans.find((plan) => plan.id === request.query.planId);
    const declined = request.query.declined;
    const choice: PlanChoice | null =
      chosen === undefined
        ? null
        : {
            plan: chosen,
            preview: planSwitchPreview(item.subscription, item.plan, chosen, deps.clock.now()),
            formToken: context.formToken(),
            note: request.query.changed === "1" ? { kind: "amount_changed" } : declined === undefined ? null : { kind: "declined", reason: declineWords(declined, context.text.locale) },
          };
    return sendPage(reply, 200, planPage(context.text, context.layout(request.url), item, plans, choice));
  });

  app.get("/invoice-info", { schema: { hide: true } }, async (request, reply) => {
    const context = await portalContext(deps, request);
    if (context === undefined) return sendProblem(reply, deps, null, "no_session");
    return sendPage(reply, 200, invoiceInfoPage(context.text, context.layout(request.url), invoiceInfoFormValues(context.customer.invoice_info), context.formToken(), null));
  });
}
