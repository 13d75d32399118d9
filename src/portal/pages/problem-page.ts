import { html } from "../html.ts";
import { portalPage, type LayoutSession } from "../portal-layout.ts";
import { portalText, type PortalProblem, type PortalText } from "../portal-text.ts";

/**
 * A page saying what went wrong. Without a session the customer's language
 * is unknown: both languages, Traditional Chinese first.
 */
export function problemPage(text: PortalText | null, problem: PortalProblem, layout: LayoutSession | null, timeZone: string): string {
  if (text !== null) {
    const [title, words] = text.problems[problem];
    const home = layout === null ? null : html`<p><a href="/portal">${text.allSubscriptions}</a></p>`;
    return portalPage(text, title, html`<h1>${title}</h1><p data-problem="${problem}">${words}</p>${home}`, layout);
  }
  const zh = portalText("zh-TW", timeZone);
  const en = portalText("en", timeZone);
  const [zhTitle, zhWords] = zh.problems[problem];
  const [enTitle, enWords] = en.problems[problem];
  return portalPage(zh, `${zhTitle} / ${enTitle}`, html`<h1>${zhTitle}</h1><p data-problem="${problem}">${zhWords}</p><div lang="en"><h1>${enTitle}</h1><p>${enWords}</p></div>`, null);
}
