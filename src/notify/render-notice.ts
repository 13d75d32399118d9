import type { Locale } from "../billing/declines.ts";
import { escapeHtml } from "./escape-html.ts";
import { noticeFormat } from "./notice-format.ts";
import { noticeTemplate, type NoticeContent } from "./notice-templates.ts";

export interface RenderedNotice {
  subject: string;
  text: string;
  html: string;
}

/** A notice as an email: plain text, and simple HTML for clients that prefer it. Dates in `timeZone`. */
export function renderNotice(content: NoticeContent, locale: Locale, timeZone: string): RenderedNotice {
  const t = noticeTemplate(content, locale, noticeFormat(locale, timeZone));
  const links = [t.action, t.alternative].filter((link) => link !== null);
  const text = [t.greeting, ...t.paragraphs, ...links.map((link) => `${link.label}:\n${link.url}`), `-- \n${t.footer}`].join("\n\n");
  const paragraph = (inner: string, style = "") => `<p${style === "" ? "" : ` style="${style}"`}>${inner}</p>`;
  const html = [
    "<!DOCTYPE html>",
    `<html lang="${locale}"><head><meta charset="utf-8"><title>${escapeHtml(t.subject)}</title></head>`,
    '<body style="font-family: sans-serif; line-height: 1.6; color: #222;">',
    paragraph(escapeHtml(t.greeting)),
    ...t.paragraphs.map((p) => paragraph(escapeHtml(p))),
    ...(t.action === null
      ? []
      : [
          paragraph(
            `<a href="${escapeHtml(t.action.url)}" style="display: inline-block; padding: 8px 16px; background: #1a73e8; color: #fff; text-decoration: none; border-radius: 4px;">${escapeHtml(t.action.label)}</a>`,
          ),
          paragraph(escapeHtml(t.action.url), "font-size: small; color: #555; word-break: break-all;"),
        ]),
    ...(t.alternative === null ? [] : [paragraph(`<a href="${escapeHtml(t.alternative.url)}">${escapeHtml(t.alternative.label)}</a>`, "font-size: small;")]),
    paragraph(escapeHtml(t.footer), "font-size: small; color: #777;"),
    "</body></html>",
  ].join("\n");
  // A subject is one header line, whatever a plan name holds.
  return { subject: t.subject.replace(/\s+/g, " "), text, html };
}
