import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { TokenWebhook } from "../../src/oen/types.ts";
import type { Harness } from "./harness.ts";

/**
 * Binds a card on the simulator while its webhooks go to a capture server
 * instead of the service, and returns the token webhook body it sent, so a
 * test can deliver that real body itself (repeatedly, concurrently, altered).
 */
export async function captureTokenWebhook(h: Harness, checkoutId: string, cardNumber = "4242424242424242"): Promise<TokenWebhook> {
  let resolveBody!: (body: TokenWebhook) => void;
  const received = new Promise<TokenWebhook>((resolve) => (resolveBody = resolve));
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => {
      res.writeHead(200).end();
      resolveBody(JSON.parse(text) as TokenWebhook);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  h.simulator.setWebhookUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  try {
    const result = h.simulator.bindCard(checkoutId, { cardNumber, expiry: "12/39", cvc: "123", email: "ming@example.com" });
    if (result.kind !== "bound" && result.kind !== "binding_failed") throw new Error(`binding did not happen: ${result.kind}`);
    return await received;
  } finally {
    h.simulator.setWebhookUrl(`${h.service.url}/webhooks/oen`);
    server.close();
  }
}

export function checkoutIdOf(checkoutUrl: string): string {
  return checkoutUrl.split("/").pop()!;
}
