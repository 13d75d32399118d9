// The Oen simulator: a local stand-in for Oen's testing environment (see start-oen-simulator.ts,
// cards.ts for the test cards, fault-plan.ts for fault injection).
export { startOenSimulator, type OenSimulator, type OenSimulatorOptions } from "./start-oen-simulator.ts";
export { TEST_CARDS, DECLINE_MESSAGES, cardBehaviour, flakyCardNumber, type CardBehaviour } from "./cards.ts";
export { parseFaultPlan, FaultPlanError, type FaultPlan, type FaultRule, type FaultKind, type FaultTarget } from "./fault-plan.ts";
export type { FaultControls } from "./fault-controller.ts";
export type { LedgerEntry, LedgerRefund, LedgerView, ListedPayment, RefundChannel } from "./ledger.ts";
export type { ForeignChargeInput } from "./record-foreign-charge.ts";
export type { CrmRefundResult } from "./refund-in-crm.ts";
export type { RefundRequestRecord } from "./simulator-context.ts";
export type { WebhookDelivery } from "./webhook-sender.ts";
export type { BindCardInput, BindResult } from "./bind-card.ts";
export type { CardForm } from "./validate-card-form.ts";
