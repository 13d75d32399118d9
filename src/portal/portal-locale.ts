export type PortalLocale = "zh-TW" | "en";

export const PORTAL_LOCALES: readonly PortalLocale[] = ["zh-TW", "en"];

/** A stored or requested language as one the portal writes in: anything else reads Traditional Chinese. */
export function portalLocale(value: string | null | undefined): PortalLocale {
  return value === "en" ? "en" : "zh-TW";
}
