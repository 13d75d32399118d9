import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../../log.ts";
import type { TokenWebhook } from "../types.ts";
import type { FaultController } from "./fault-controller.ts";

/** One try to deliver one webhook. */
export interface WebhookDelivery {
  /** One per delivery sequence: a duplicated webhook has two, each with its own tries. */
  deliveryId: number;
  /** 1, 2, 3: the try within its sequence. */
  try: number;
  url: string | null;
  body: TokenWebhook;
  /** Wall-clock start of the try. */
  at: string;
  /** The receiver's answer, when there was one. */
  httpStatus?: number;
  /** Why there was no answer (timeout, connection, no URL configured). */
  error?: string;
  ok: boolean;
}

export interface WebhookSender {
  /** Starts delivering in the background, by Oen's rules (developers/webhooks.md "送出規則"). */
  send(body: TokenWebhook): void;
  readonly deliveries: readonly WebhookDelivery[];
  /** Resolves once no delivery is waiting or in flight. */
  idle(): Promise<void>;
}

export interface WebhookSenderOptions {
  url: () => string | null;
  /** Waits between tries; tries = 1 + its length (Oen: about 2 s and 4 s, so 3 tries). */
  retryDelaysMs: readonly number[];
  timeoutMs: number;
  faults: FaultController;
  /** Aborted when the simulator closes: every wait and request stops. */
  signal: AbortSignal;
  logger: Logger;
}

const DEFAULT_REORDER_HOLD_MS = 1_000;

export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const deliveries: WebhookDelivery[] = [];
  const pending = new Set<Promise<void>>();
  let held: Array<() => void> = [];
  let nextDeliveryId = 1;

  const track = (work: Promise<void>) => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };

  const releaseHeld = () => {
    const release = held;
    held = [];
    for (const resume of release) resume();
  };

  async function tryOnce(body: TokenWebhook, deliveryId: number, attempt: number): Promise<boolean> {
    const url = options.url();
    const record: WebhookDelivery = { deliveryId, try: attempt, url, body, at: new Date().toISOString(), ok: false };
    if (url === null) {
      // Oen skips notifications while no URL is configured, and never sends them later.
      deliveries.push({ ...record, error: "no webhook URL configured" });
      return true;
    }
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        redirect: "manual", // Oen does not follow redirects: a 3xx is a failed try
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
      });
      await response.body?.cancel();
      record.httpStatus = response.status;
      record.ok = response.status >= 200 && response.status < 300;
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
      record.error = name === "TimeoutError" ? `no answer within ${options.timeoutMs} ms` : `connection failed (${String(cause?.code ?? name)})`;
    }
    deliveries.push(record);
    options.logger.info(
      { checkoutId: body.id, deliveryId, try: attempt, httpStatus: record.httpStatus, error: record.error },
      "simulator webhook try",
    );
    return record.ok;
  }

  async function deliver(body: TokenWebhook, delayMs: number, afterFirstTry: () => void): Promise<void> {
    const deliveryId = nextDeliveryId++;
    try {
      if (delayMs > 0) await sleep(delayMs, undefined, { signal: options.signal });
      for (let attempt = 1; attempt <= options.retryDelaysMs.length + 1; attempt++) {
        if (attempt > 1) await sleep(options.retryDelaysMs[attempt - 2] ?? 0, undefined, { signal: options.signal });
        const delivered = await tryOnce(body, deliveryId, attempt);
        if (attempt === 1) afterFirstTry();
        if (delivered) return;
      }
    } catch (error) {
      // An abort means the simulator is closing; anything else is a simulator bug worth seeing.
      if (!options.signal.aborted) options.logger.error({ err: error, checkoutId: body.id }, "simulator webhook delivery crashed");
    }
  }

  async function holdThenDeliver(body: TokenWebhook, holdMs: number): Promise<void> {
    await new Promise<void>((resume) => {
      const release = () => {
        clearTimeout(timer);
        options.signal.removeEventListener("abort", release);
        resume();
      };
      const timer = setTimeout(release, holdMs);
      held.push(release);
      options.signal.addEventListener("abort", release);
    });
    if (!options.signal.aborted) await deliver(body, 0, () => {});
  }

  return {
    deliveries,
    send(body) {
      const { latencyMs, fault } = options.faults.decide("webhook");
      switch (fault?.kind) {
        case "drop":
          options.logger.info({ checkoutId: body.id }, "simulator webhook dropped by fault");
          return;
        case "reorder":
          track(holdThenDeliver(body, fault.latencyMs ?? DEFAULT_REORDER_HOLD_MS));
          return;
        case "duplicate":
          track(deliver(body, latencyMs, releaseHeld));
          track(deliver(body, latencyMs, releaseHeld));
          return;
        default:
          track(deliver(body, latencyMs, releaseHeld));
      }
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
