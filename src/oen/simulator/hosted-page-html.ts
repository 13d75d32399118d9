import type { CardForm } from "./validate-card-form.ts";

/** The binding form; it POSTs (urlencoded) back to its own path, like Oen's page. */
export function renderBindingPage(checkoutId: string, values: Partial<CardForm>, errors: readonly string[] = []): string {
  const field = (name: keyof CardForm, label: string, attributes: string) =>
    `<label>${label}<input name="${name}" value="${escapeHtml(values[name] ?? "")}" ${attributes}></label>`;
  return layout(
    "綁定信用卡",
    `${errors.length > 0 ? `<ul class="errors">${errors.map((error) => `<li>${escapeHtml(error)}</li>`).join("")}</ul>` : ""}
<form method="post" action="/checkout/subscription/create/${encodeURIComponent(checkoutId)}">
${field("cardNumber", "卡號", 'inputmode="numeric" autocomplete="cc-number" required')}
${field("expiry", "有效期限 (MM/YY)", 'autocomplete="cc-exp" placeholder="MM/YY" required')}
${field("cvc", "安全碼", 'inputmode="numeric" autocomplete="cc-csc" required')}
${field("email", "Email", 'type="email" autocomplete="email" required')}
${field("cardholderName", "持卡人英文姓名", 'autocomplete="cc-name"')}
<p>綁卡時可能先授權新台幣 1 元並立即退回。</p>
<button type="submit">綁定</button>
</form>`,
  );
}

export function renderMessagePage(title: string, text: string): string {
  return layout(title, `<p>${escapeHtml(text)}</p>`);
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="zh-Hant"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Oen simulator</title></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
