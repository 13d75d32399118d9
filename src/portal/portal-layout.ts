import { html, type Html } from "./html.ts";
import type { PortalText } from "./portal-text.ts";

export interface LayoutSession {
  /** A fresh CSRF token for the language switch. */
  formToken: string;
  returnUrl: string | null;
  /** The page's own path, where the language switch comes back to. */
  path: string;
}

/**
 * The frame of every portal page: our stylesheet, the language switch (a
 * form: it works without JavaScript) and the way back to the platform. No
 * script anywhere; the CSP forbids it.
 */
export function portalPage(text: PortalText, title: string, body: Html, session: LayoutSession | null, options: { refresh?: { seconds: number; url: string } } = {}): string {
  const bar = session === null
    ? html`<span class="brand">${text.portalTitle}</span>`
    : html`<span class="brand">${text.portalTitle}</span>
<form method="post" action="/portal/locale"><input type="hidden" name="csrf" value="${session.formToken}"><input type="hidden" name="back" value="${session.path}"><input type="hidden" name="locale" value="${text.otherLanguage.locale}"><button type="submit" class="link" lang="${text.otherLanguage.locale}">${text.otherLanguage.label}</button></form>
${session.returnUrl === null ? null : html`<a href="${session.returnUrl}">${text.back}</a>`}`;
  return html`<!DOCTYPE html>
<html lang="${text.locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${options.refresh === undefined ? null : html`<meta http-equiv="refresh" content="${options.refresh.seconds};url=${options.refresh.url}">`}
<title>${title} · ${text.portalTitle}</title><link rel="stylesheet" href="/portal/assets/portal.css"></head>
<body><header><div class="bar">${bar}</div></header>
<main>
${body}
</main></body></html>`.markup;
}
