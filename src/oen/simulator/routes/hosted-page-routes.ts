import formbody from "@fastify/formbody";
import type { FastifyInstance, FastifyReply } from "fastify";
import { bindCard, unusablePage, type BindResult } from "../bind-card.ts";
import { renderBindingPage, renderMessagePage } from "../hosted-page-html.ts";
import type { SimulatorContext } from "../simulator-context.ts";
import type { CardForm } from "../validate-card-form.ts";

const PAGE_PATH = "/checkout/subscription/create/:id";

/** The hosted binding page (Oen serves it at https://{merchantId}.oen.tw/checkout/subscription/create/{id}). */
export async function hostedPageRoutes(app: FastifyInstance, { ctx }: { ctx: SimulatorContext }): Promise<void> {
  await app.register(formbody);

  app.get<{ Params: { id: string } }>(PAGE_PATH, async (request, reply) => {
    const page = ctx.checkouts.get(request.params.id);
    if (page === undefined) return showResult(reply, { kind: "not_found" });
    const unusable = unusablePage(page, ctx);
    if (unusable !== undefined) return showResult(reply, unusable);
    return reply.type("text/html").send(renderBindingPage(page.id, { email: page.payerEmail ?? "" }));
  });

  app.post<{ Params: { id: string }; Body: Record<string, unknown> | undefined }>(PAGE_PATH, async (request, reply) => {
    const text = (name: keyof CardForm) => {
      const value = request.body?.[name];
      return typeof value === "string" ? value : "";
    };
    const form: CardForm = {
      cardNumber: text("cardNumber"),
      expiry: text("expiry"),
      cvc: text("cvc"),
      email: text("email"),
      cardholderName: text("cardholderName"),
    };
    const result = bindCard(ctx, request.params.id, form);
    if (result.kind === "invalid") {
      // Oen's page refuses such input before submitting: show the form again with the reasons.
      const html = renderBindingPage(request.params.id, { ...form, cvc: "" }, result.errors);
      return reply.code(422).type("text/html").send(html);
    }
    return showResult(reply, result);
  });
}

type ShownResult = Exclude<BindResult, { kind: "invalid" }>;

const MESSAGES: Record<ShownResult["kind"], [number, string, string]> = {
  bound: [200, "綁卡成功", "卡片已綁定。"],
  binding_failed: [200, "綁卡失敗", "卡片驗證失敗，請改用其他卡片。"],
  expired: [410, "綁卡頁已逾時", "綁卡頁已超過 10 分鐘，請重新操作。"],
  already_used: [410, "綁卡頁已使用", "這個綁卡頁已經使用過。"],
  not_found: [404, "找不到綁卡頁", "這個綁卡頁不存在。"],
};

/** Redirects (303) where the merchant asked, else shows a page saying what happened. */
function showResult(reply: FastifyReply, result: ShownResult): FastifyReply {
  if ("redirectUrl" in result && result.redirectUrl !== null) return reply.redirect(result.redirectUrl, 303);
  const [status, title, text] = MESSAGES[result.kind];
  return reply.code(status).type("text/html").send(renderMessagePage(title, text));
}
