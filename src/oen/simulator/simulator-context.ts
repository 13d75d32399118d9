import type { Logger } from "../../log.ts";
import type { CardStore } from "./card-store.ts";
import type { CardBehaviour } from "./cards.ts";
import type { FaultController } from "./fault-controller.ts";
import type { IdFactory } from "./id-factory.ts";
import type { Ledger } from "./ledger.ts";
import type { WebhookSender } from "./webhook-sender.ts";

/** A hosted binding page created by POST /checkout-token. */
export interface CheckoutPage {
  id: string;
  merchantId: string;
  successUrl: string | null;
  failureUrl: string | null;
  customId?: string;
  payerEmail?: string;
  createdAt: Date;
  /** Set by the first submit that got past form validation: a page works once. */
  usedAt?: Date;
}

/** What a card token stands for. */
export interface BoundCard {
  token: string;
  merchantId: string;
  checkoutId: string;
  last4: string;
  behaviour: CardBehaviour;
  /** Charges attempted so far, which decides when a flaky card stops declining. */
  charges: number;
}

export interface SimulatorSettings {
  merchantId: string;
  apiToken: string;
  checkoutTtlMs: number;
  /** Off: charges of 200,000+ answer V0003, like a merchant without high-value activation. */
  highValueEnabled: boolean;
  /** Off: checkout and charges answer V0002 PAYMENT_SERVICE_NOT_ACTIVATE. */
  paymentsActivated: boolean;
  /** On: the domain has e-invoice (電子發票): charges need userName/userEmail and a valid invoiceInfo, refunds of them an allowance. */
  einvoice: boolean;
  /** Set: API calls from other addresses get 403 like production's IP allowlist. */
  ipAllowlist: readonly string[] | null;
  /** On: binding a card also lists a 1-TWD authorisation, returned at once (some acquirers do this). */
  bindingAuthorisations: boolean;
  /** Where token webhooks go (Oen: set in the CRM); null: they are skipped, as Oen does. */
  webhookUrl: string | null;
}

/** One POST /refunds request as it arrived (answered, refused or lost to a fault). */
export interface RefundRequestRecord {
  transactionHid: string;
  /** null: no amount sent (Oen refunds in full). */
  amount: number | null;
  receivedAt: string;
}

/** Everything the simulator's routes share. */
export interface SimulatorContext {
  settings: SimulatorSettings;
  now: () => Date;
  ids: IdFactory;
  ledger: Ledger;
  checkouts: Map<string, CheckoutPage>;
  cards: CardStore;
  faults: FaultController;
  /** Every refund request received, in order: tests prove "sent once" with it. */
  refundRequests: RefundRequestRecord[];
  webhooks: WebhookSender;
  /** Waits, but stops (rejecting) when the simulator closes. */
  sleep(ms: number): Promise<void>;
  /** Runs a task later, unless the simulator closes first. */
  later(ms: number, task: () => void): void;
  logger: Logger;
}
