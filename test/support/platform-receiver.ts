import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface ReceivedPlatformEvent {
  /** The webhook-id header: the event id, the same on every retry. */
  webhookId: string;
  /** The JSON body, verified: { id, type, timestamp, data }. */
  body: { id: string; type: string; timestamp: string; data: Record<string, unknown> };
}

export interface PlatformRequest {
  webhookId: string | null;
  verified: boolean;
  /** The status the receiver answered. */
  status: number;
  /** The body exactly as it arrived (a retry must repeat it byte for byte). */
  raw: string;
}

export interface PlatformReceiver {
  url: string;
  /** Deliveries whose signature verified and that the receiver acknowledged (2xx), in order. */
  events: ReceivedPlatformEvent[];
  /** Every request, acknowledged or not, forged or not. */
  requests: PlatformRequest[];
  /** The status for the following verified deliveries (200 until told otherwise). */
  respondWith(status: number): void;
  /** Answers the next request only after `ms` (a slow platform); `stalled` counts requests being held. */
  stallNext(ms: number): void;
  readonly stalled: number;
  close(): Promise<void>;
}

/**
 * A real HTTP server standing in for the platform: verifies each delivery
 * with the Standard Webhooks reference library, answers 400 to anything that
 * does not verify, and the chosen status to the rest.
 */
export async function startPlatformReceiver(secret: string): Promise<PlatformReceiver> {
  const verifier = new Webhook(secret);
  const events: ReceivedPlatformEvent[] = [];
  const requests: PlatformRequest[] = [];
  let status = 200;
  let stallMs = 0;
  let stalled = 0;
  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    if (stallMs > 0) {
      const wait = stallMs;
      stallMs = 0;
      stalled++;
      await new Promise((resolve) => setTimeout(resolve, wait));
      stalled--;
    }
    const headers = Object.fromEntries(Object.entries(request.headers).filter((e): e is [string, string] => typeof e[1] === "string"));
    const webhookId = headers["webhook-id"] ?? null;
    let verified: ReceivedPlatformEvent["body"] | null = null;
    try {
      verified = verifier.verify(body, headers) as ReceivedPlatformEvent["body"];
    } catch {
      verified = null;
    }
    const answer = verified === null ? 400 : status;
    requests.push({ webhookId, verified: verified !== null, status: answer, raw: body });
    if (verified !== null && answer >= 200 && answer < 300) events.push({ webhookId: webhookId!, body: verified });
    response.writeHead(answer, { "content-type": "text/plain" }).end(answer < 300 ? "ok" : "not now");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/billing`,
    events,
    requests,
    respondWith(next) {
      status = next;
    },
    stallNext(ms) {
      stallMs = ms;
    },
    get stalled() {
      return stalled;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
