import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { startCardUpdate } from "../checkout/start-card-update.ts";
import { saveCustomer } from "../customers/save-customer.ts";
import type { Deps } from "../deps.ts";
import { OenError } from "../oen/errors.ts";
import { createSideEffects } from "../outbox/side-effects.ts";
import { cancelSubscription } from "../subscriptions/cancel-subscription.ts";
import { changeSubscriptionPlan } from "../subscriptions/change-subscription-plan.ts";
import { resumeSubscription } from "../subscriptions/resume-subscription.ts";
import { invoiceInfoFromForm, type InvoiceInfoFormValues } from "./invoice-info-form.ts";
import { invoiceInfoPage } from "./pages/invoice-info-page.ts";
import { runPortalAction, type ActionAnswer } from "./portal-action.ts";
import { formField, portalContext, postedFormToken, type PortalContext } from "./portal-context.ts";
import { sendPage, sendProblem } from "./portal-reply.ts";
import { loadCustomerSubscription, type PortalSubscription } from "./portal-subscriptions.ts";
import { selfServicePlans } from "./self-service-plans.ts";

type SubscriptionRequest = FastifyRequest<{ Params: { id: string } }>;
interface Target {
  context: PortalContext;
  formToken: string;
  item: PortalSubscription;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const AMOUNT = /^[0-9]{1,9}$/;

/**
 * The portal's actions, each a POST form with its CSRF token, each through
 * the same services (transitions, events, idempotency) as the platform API.
 */
export async function portalActionRoutes(app: FastifyInstance, deps: Deps) {
  /** Session (401), then the form's CSRF token (403: nothing is read or changed without it), then the customer's own subscription (404). */
  async function targetOf(request: SubscriptionRequest, reply: FastifyReply): Promise<Target | FastifyReply> {
    const context = await portalContext(deps, request);
    if (context === undefined) return sendProblem(reply, deps, null, "no_session");
    const formToken = postedFormToken(context, request);
    if (formToken === undefined) return sendProblem(reply, deps, context, "bad_form");
    const item = ID.test(request.params.id) ? await loadCustomerSubscription(deps.db, context.customer.id, request.params.id) : undefined;
    if (item === undefined) return sendProblem(reply, deps, context, "not_found");
    return { context, formToken, item };
  }

  /** Registers POST /subscriptions/:id/{name}: `request` is what the form asks (hashed with the key), `run` does it. */
  function subscriptionAction(name: string, act: (target: Target, request: FastifyRequest) => { request: unknown; run: () => Promise<ActionAnswer> } | ActionAnswer) {
    app.post<{ Params: { id: string } }>(`/subscriptions/:id/${name}`, { schema: { hide: true } }, async (request, reply) => {
      const target = await targetOf(request, reply);
      if (!("item" in target)) return target;
      const action = act(target, request);
      if ("status" in action) return sendProblem(reply, deps, target.context, "problem" in action ? action.problem : "not_possible", action.status);
      return runPortalAction(deps, target.context, reply, { name, target: target.item.subscription.id, formToken: target.formToken, request: action.request }, action.run);
    });
  }

  const pageOf = (id: string, query: string) => `/portal/subscriptions/${id}${query}`;

  subscriptionAction("card", ({ item }, request) => {
    const id = item.subscription.id;
    return {
      request: null,
      run: async (): Promise<ActionAnswer> => {
        try {
          // A fresh Oen page (they live 10 minutes), and back to this page afterwards.
          const started = await startCardUpdate(deps, id, { successUrl: `${deps.config.publicUrl}${pageOf(id, "?card=updated")}`, failureUrl: `${deps.config.publicUrl}${pageOf(id, "?card=failed")}` });
          if (started.kind === "started") return { status: 303, location: started.checkout.checkoutUrl };
          return started.kind === "not_found" ? { status: 404, problem: "not_found" } : { status: 409, problem: "not_updatable" };
        } catch (error) {
          if (!(error instanceof OenError)) throw error;
          request.log.error({ err: error.message, subscriptionId: id }, "Oen refused to open a card-update page");
          return { status: 502, problem: "oen_unavailable" };
        }
      },
    };
  });

  subscriptionAction("cancel", ({ item }) => ({
    request: { atPeriodEnd: true },
    run: async (): Promise<ActionAnswer> => {
      const effects = createSideEffects(deps);
      const result = await cancelSubscription(deps, item.subscription.id, true, effects);
      await effects.flush();
      return result.kind === "ok" ? { status: 303, location: pageOf(item.subscription.id, "?done=cancel_scheduled") } : { status: 409, problem: "not_possible" };
    },
  }));

  subscriptionAction("resume", ({ item }) => ({
    request: null,
    run: async (): Promise<ActionAnswer> => {
      const result = await resumeSubscription(deps, item.subscription.id);
      return result.kind === "resumed" ? { status: 303, location: pageOf(item.subscription.id, "?done=resumed") } : { status: 409, problem: "not_possible" };
    },
  }));

  app.post<{ Params: { id: string } }>("/subscriptions/:id/plan", { schema: { hide: true } }, async (request, reply) => {
    const target = await targetOf(request, reply);
    if (!("item" in target)) return target;
    const { context, item } = target;
    const id = item.subscription.id;
    const planId = formField(request, "planId");
    const expected = formField(request, "expectedProration");
    // Only what the platform marked selfService, whatever the form says.
    if (!(await selfServicePlans(deps.db, item.plan)).some((plan) => plan.id === planId) || (expected !== "" && !AMOUNT.test(expected))) {
      return sendProblem(reply, deps, context, "not_possible", 422);
    }
    const choose = (query: string) => `${pageOf(id, "/plan")}?planId=${encodeURIComponent(planId)}&${query}`;
    return runPortalAction(deps, context, reply, { name: "plan", target: id, formToken: target.formToken, request: { planId, expected } }, async (): Promise<ActionAnswer> => {
      const result = await changeSubscriptionPlan(deps, id, { planId, ...(expected === "" ? {} : { expectedProration: Number(expected) }) });
      if (result.kind === "changed") return { status: 303, location: pageOf(id, "?done=plan_changed") };
      if (result.kind === "scheduled") return { status: 303, location: pageOf(id, "?done=plan_scheduled") };
      if (result.kind === "pending") return { status: 303, location: pageOf(id, "?done=plan_pending") };
      if (result.kind === "declined") return { status: 303, location: choose(`declined=${encodeURIComponent(result.code ?? "")}`) };
      if (result.error === "proration_changed") return { status: 303, location: choose("changed=1") };
      return { status: result.status, problem: result.status === 404 ? "not_found" : "not_possible" };
    });
  });

  app.post("/invoice-info", { schema: { hide: true } }, async (request, reply) => {
    const context = await portalContext(deps, request);
    if (context === undefined) return sendProblem(reply, deps, null, "no_session");
    const formToken = postedFormToken(context, request);
    if (formToken === undefined) return sendProblem(reply, deps, context, "bad_form");
    const values: InvoiceInfoFormValues = {
      kind: formField(request, "kind"),
      carrierId: formField(request, "carrierId"),
      buyerIdentifier: formField(request, "buyerIdentifier"),
      buyerName: formField(request, "buyerName"),
      email: formField(request, "email"),
    };
    // Checked as the API checks them; a mistake shows the form again, naming the field.
    const check = invoiceInfoFromForm(values);
    if (!check.ok) return sendPage(reply, 422, invoiceInfoPage(context.text, context.layout("/portal/invoice-info"), values, context.formToken(), check.field));
    return runPortalAction(deps, context, reply, { name: "invoice-info", target: context.customer.id, formToken, request: check.value }, async (): Promise<ActionAnswer> => {
      const effects = createSideEffects(deps);
      await deps.db.transaction().execute((tx) => saveCustomer(tx, effects, context.customer.id, { invoiceInfo: check.value }, deps.clock.now()));
      await effects.flush();
      return { status: 303, location: "/portal?done=invoice_info_saved" };
    });
  });
}
