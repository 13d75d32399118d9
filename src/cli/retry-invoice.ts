import { chargeInvoice, type ChargeResult } from "../charges/charge-invoice.ts";
import type { Deps } from "../deps.ts";
import { scheduleCollection } from "../invoices/invoice-transitions.ts";
import { createSideEffects } from "../outbox/side-effects.ts";
import { CliError } from "./cli-error.ts";

/**
 * Charges an open invoice now (after ops fixed what held it, or a customer asked): its next
 * charge is moved to now by the invoice transition, then charged here, and the answer shown.
 * The charge job the transition asks for is left to the sweep, which finds the invoice due
 * should this process stop in between; the attempt's write-ahead keeps any race to one charge.
 */
export async function retryInvoice(deps: Deps, invoiceId: string): Promise<ChargeResult> {
  const now = deps.clock.now();
  const scheduled = await deps.db.transaction().execute(async (tx) => {
    const invoice = await tx.selectFrom("invoices").select("status").where("id", "=", invoiceId).executeTakeFirst();
    if (invoice === undefined) throw new CliError("not_found", `invoice "${invoiceId}" does not exist`);
    if (invoice.status !== "open") throw new CliError("not_open", `invoice "${invoiceId}" is ${invoice.status}: only an open invoice can be charged`);
    return scheduleCollection(tx, createSideEffects(deps), invoiceId, now, now);
  });
  if (scheduled === undefined) throw new CliError("not_open", `invoice "${invoiceId}" is no longer open`);
  return chargeInvoice(deps, invoiceId);
}
