import { html, type Html } from "../html.ts";

/** A POST form of one button, with its own CSRF token (and any hidden fields). */
export function actionForm(action: string, token: string, label: string, options: { style?: "secondary" | "danger"; fields?: Record<string, string | number> } = {}): Html {
  const hidden = Object.entries(options.fields ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  return html`<form method="post" action="${action}"><input type="hidden" name="csrf" value="${token}">${hidden}<button type="submit"${options.style === undefined ? null : html` class="${options.style}"`}>${label}</button></form>`;
}
