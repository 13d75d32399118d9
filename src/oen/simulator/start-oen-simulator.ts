import { setTimeout as sleep } from "node:timers/promises";
import { silentLogger, type Logger } from "../../log.ts";
import type { CardRefusalCode } from "./cards.ts";
import { bindCard, completeCardForm, type BindCardInput, type BindResult } from "./bind-card.ts";
import { buildSimulatorApp } from "./build-simulator-app.ts";
import { CardStore } from "./card-store.ts";
import { settleWhenDue } from "./charge-token.ts";
import { createFaultController, type FaultControls } from "./fault-controller.ts";
import { parseFaultPlan, type FaultPlan } from "./fault-plan.ts";
import { createIdFactory } from "./id-factory.ts";
import { createLedger, type LedgerEntry, type LedgerView } from "./ledger.ts";
import { duplicateCharge } from "./duplicate-charge.ts";
import { payOut } from "./pay-out.ts";
import { recordForeignCharge, type ForeignChargeInput } from "./record-foreign-charge.ts";
import { refundInCrm, type CrmRefundResult } from "./refund-in-crm.ts";
import { createSeededRandom } from "./random.ts";
import type { RefundRequestRecord, SimulatorContext } from "./simulator-context.ts";
import { createWebhookSender, type WebhookDelivery } from "./webhook-sender.ts";

export interface OenSimulatorOptions {
  merchantId: string;
  apiToken: string;
  /** Where token webhooks go; none: they are skipped (Oen does the same while no URL is set). */
  webhookUrl?: string | null;
  port?: number;
  host?: string;
  /** Waits between webhook tries (Oen: about 2 s and 4 s, 3 tries in all). */
  webhookRetryDelaysMs?: number[];
  webhookTimeoutMs?: number;
  /** Life of a hosted binding page (Oen: 10 minutes). */
  checkoutTtlMs?: number;
  /** The simulator's clock: page expiry, createdAt/paidAt, P-number dates, card expiry. */
  now?: () => Date;
  logger?: Logger;
  /** Seeds fault rolls and ids, for reproducible runs (default: a random seed). */
  seed?: number;
  faults?: FaultPlan;
  /** Charges of 200,000+ allowed (default false: 400 V0003). */
  highValueEnabled?: boolean;
  /** Default true; false: checkout and charges answer 400 V0002. */
  paymentsActivated?: boolean;
  /** E-invoice (電子發票) enabled on the domain; default off. */
  einvoice?: boolean;
  /** Production-like IP allowlist: API calls from other addresses get 403 (default: none). */
  ipAllowlist?: string[] | null;
  /** Binding a card also lists a 1-TWD authorisation, returned at once, as some acquirers do (default false). */
  bindingAuthorisations?: boolean;
  /** A JSON file that keeps the bound cards across restarts (default: none, memory only). */
  cardsFile?: string | null;
  /** A journal file that keeps the ledger (charges, refunds) across restarts (default: none, memory only). */
  ledgerFile?: string | null;
}

export interface OenSimulator {
  /** Base URL of the API, e.g. http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  /** Base URL of the hosted pages (the same server). */
  hostedUrl: string;
  merchantId: string;
  apiToken: string;
  ledger: LedgerView;
  /** Every POST /refunds received, in order, whatever became of it (live). */
  refundRequests: readonly RefundRequestRecord[];
  faults: FaultControls;
  /** Every webhook try so far, in order (live). */
  webhookDeliveries: readonly WebhookDelivery[];
  /** Resolves when no webhook is waiting or in flight. */
  webhooksIdle(): Promise<void>;
  setWebhookUrl(url: string | null): void;
  /** The hosted binding page of a checkout id. */
  checkoutUrl(checkoutId: string): string;
  /** Submits the binding page without a browser: same checks, same webhook, same result. */
  bindCard(checkoutId: string, card: BindCardInput): BindResult;
  /**
   * What a bound card does from now on, as the issuer changes its mind (a card
   * that paid last month runs out of credit): its next `declines` charges
   * decline with `declineCode`, then charges succeed again.
   */
  reprogramCard(token: string, behaviour: { declines: number; declineCode: CardRefusalCode }): void;
  /** The merchant refunds in Oen's CRM (not through the API), under the same once rule. */
  refundInCrm(transactionHid: string, input?: { amount?: number; reason?: string }): CrmRefundResult;
  /** Oen pays a `charged` transaction out: it becomes `claimed`; undefined when it was not `charged`. */
  payOut(transactionHid: string): LedgerEntry | undefined;
  /** A successful charge of the merchant that the service never made (another integration): unknown to it. */
  recordForeignCharge(input: ForeignChargeInput): LedgerEntry;
  /** Oen takes an order's money a second time: a new successful transaction of the same order (a double charge). */
  duplicateCharge(transactionHid: string, createdAt?: Date): LedgerEntry;
  close(): Promise<void>;
}

export async function startOenSimulator(options: OenSimulatorOptions): Promise<OenSimulator> {
  const logger = options.logger ?? silentLogger;
  const lifetime = new AbortController();
  const random = createSeededRandom(options.seed);
  const faults = createFaultController(random, parseFaultPlan(options.faults ?? []));
  const settings: SimulatorContext["settings"] = {
    merchantId: options.merchantId,
    apiToken: options.apiToken,
    checkoutTtlMs: options.checkoutTtlMs ?? 600_000,
    highValueEnabled: options.highValueEnabled ?? false,
    paymentsActivated: options.paymentsActivated ?? true,
    einvoice: options.einvoice ?? false,
    ipAllowlist: options.ipAllowlist ?? null,
    webhookUrl: options.webhookUrl ?? null,
    bindingAuthorisations: options.bindingAuthorisations ?? false,
  };
  const ctx: SimulatorContext = {
    settings,
    now: options.now ?? (() => new Date()),
    ids: createIdFactory(random),
    ledger: createLedger(options.ledgerFile ?? null),
    checkouts: new Map(),
    cards: new CardStore(options.cardsFile ?? null),
    faults,
    refundRequests: [],
    webhooks: createWebhookSender({
      url: () => settings.webhookUrl,
      retryDelaysMs: options.webhookRetryDelaysMs ?? [2_000, 4_000],
      timeoutMs: options.webhookTimeoutMs ?? 10_000,
      faults,
      signal: lifetime.signal,
      logger,
    }),
    sleep: async (ms) => {
      if (ms > 0) await sleep(ms, undefined, { signal: lifetime.signal });
    },
    later: (ms, task) => {
      sleep(ms, undefined, { signal: lifetime.signal }).then(task, () => {
        // aborted: the simulator closed first
      });
    },
    logger,
  };

  // The ids of a seeded simulator repeat from the same seed: after a restart they would name
  // the transactions and cards it kept.
  if (options.seed !== undefined && (ctx.cards.size > 0 || ctx.ledger.all().length > 0)) {
    throw new Error("a seeded simulator (SIM_SEED) cannot start on kept cards or a kept ledger: its ids would repeat theirs; remove the seed or the files");
  }
  for (const entry of ctx.ledger.all()) if (entry.status === "charging" && entry.settles !== undefined) settleWhenDue(ctx, entry.id, entry.settles);

  const app = await buildSimulatorApp(ctx, lifetime.signal);
  await app.listen({ port: options.port ?? 0, host: options.host ?? "127.0.0.1" });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("the simulator is not listening on TCP");
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info({ url, merchantId: options.merchantId }, "Oen simulator listening");

  return {
    url,
    hostedUrl: url,
    merchantId: options.merchantId,
    apiToken: options.apiToken,
    ledger: readOnly(ctx.ledger),
    refundRequests: ctx.refundRequests,
    faults: { set: faults.set, clear: faults.clear, list: faults.list },
    webhookDeliveries: ctx.webhooks.deliveries,
    webhooksIdle: () => ctx.webhooks.idle(),
    setWebhookUrl: (webhookUrl) => {
      settings.webhookUrl = webhookUrl;
    },
    checkoutUrl: (checkoutId) => `${url}/checkout/subscription/create/${encodeURIComponent(checkoutId)}`,
    bindCard: (checkoutId, card) => bindCard(ctx, checkoutId, completeCardForm(ctx, checkoutId, card)),
    reprogramCard: (token, behaviour) => {
      const card = ctx.cards.get(token);
      if (card === undefined) throw new Error("no card with that token");
      card.behaviour = { ...card.behaviour, declines: behaviour.declines, declineCode: behaviour.declineCode };
      card.charges = 0;
      ctx.cards.save();
    },
    refundInCrm: (transactionHid, input = {}) => refundInCrm(ctx, transactionHid, input),
    payOut: (transactionHid) => payOut(ctx, transactionHid),
    recordForeignCharge: (input) => recordForeignCharge(ctx, input),
    duplicateCharge: (transactionHid, createdAt) => duplicateCharge(ctx, transactionHid, createdAt),
    async close() {
      lifetime.abort();
      await app.close();
      await ctx.webhooks.idle();
    },
  };
}

function readOnly(ledger: LedgerView): LedgerView {
  return {
    all: ledger.all,
    byOrder: ledger.byOrder,
    get: ledger.get,
    successfulCharges: ledger.successfulCharges,
    refunds: ledger.refunds,
    listedPayments: ledger.listedPayments,
  };
}
