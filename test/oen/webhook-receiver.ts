import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** How the receiver answers one webhook: a status, optionally late or with a Location. */
export interface ReceiverAnswer {
  status: number;
  delayMs?: number;
  location?: string;
}

export interface ReceivedWebhook {
  path: string;
  body: Record<string, unknown>;
  at: number;
}

/** A small real HTTP server standing in for our webhook ingress, answering from a script. */
export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Answers for the next requests, in order; after them, 200. */
  script(answers: Array<number | ReceiverAnswer>): void;
  /** Waits until `count` webhooks arrived (or fails after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let answers: ReceiverAnswer[] = [];
  const server = createServer(async (request, response) => {
    const body = JSON.parse(await readBody(request)) as Record<string, unknown>;
    received.push({ path: request.url ?? "/", body, at: Date.now() });
    const answer = answers.shift() ?? { status: 200 };
    if (answer.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.location !== undefined) response.setHeader("location", answer.location);
    response.writeHead(answer.status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/oen`,
    received,
    script(next) {
      answers = next.map((answer) => (typeof answer === "number" ? { status: answer } : answer));
    },
    async waitFor(count, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} webhooks, got ${received.length}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return received;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of request) text += String(chunk);
  return text;
}
