import { escapeHtml } from "../notify/escape-html.ts";

/** Markup that is already safe; only `html` makes one, so every other value is escaped. */
export class Html {
  readonly markup: string;
  constructor(markup: string) {
    this.markup = markup;
  }
  toString(): string {
    return this.markup;
  }
}

type Part = Html | string | number | null | undefined | false | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return "";
  if (part instanceof Html) return part.markup;
  if (Array.isArray(part)) return part.map(render).join("");
  return escapeHtml(String(part));
}

/**
 * A template of markup: every interpolated string (names, plan names, URLs)
 * is escaped, arrays are joined, null and false render nothing. No page can
 * forget to escape, because there is no other way to build one.
 */
export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  return new Html(strings.reduce((out, text, i) => out + text + (i < parts.length ? render(parts[i] as Part) : ""), ""));
}
