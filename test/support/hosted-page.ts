/**
 * Fills in and submits an Oen hosted binding page over real HTTP, the way a
 * customer's browser would: reads the form from the HTML, keeps its fields,
 * types the card, and posts it. Returns where the page redirected.
 */
export async function bindCardThroughPage(pageUrl: string, card: { number: string; expiry?: string; cvc?: string; email?: string }): Promise<{ status: number; location: string | null; html: string }> {
  const page = await fetch(pageUrl, { redirect: "manual" });
  if (page.status !== 200) return { status: page.status, location: page.headers.get("location"), html: await page.text() };
  const html = await page.text();
  const form = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(html);
  if (form?.[1] === undefined) throw new Error("the binding page has no POST form");
  const fields = new URLSearchParams();
  for (const input of html.matchAll(/<input[^>]*name="([^"]+)"[^>]*?(?:value="([^"]*)")?[^>]*>/gi)) {
    fields.set(input[1]!, decodeEntities(input[2] ?? ""));
  }
  const typed: Record<string, string> = { cardNumber: card.number, expiry: card.expiry ?? "12/39", cvc: card.cvc ?? "123" };
  if (card.email !== undefined || !fields.get("email")) typed.email = card.email ?? "customer@example.com";
  for (const [name, value] of Object.entries(typed)) fields.set(name, value);
  const response = await fetch(new URL(decodeEntities(form[1]), pageUrl), {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: fields.toString(),
  });
  return { status: response.status, location: response.headers.get("location"), html: await response.text() };
}

function decodeEntities(text: string): string {
  return text.replaceAll("&amp;", "&").replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">");
}
