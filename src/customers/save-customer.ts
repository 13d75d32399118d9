import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { InvoiceInfo } from "../billing/einvoice.ts";
import type { Customer, Database } from "../db/database.ts";
import type { SideEffects } from "../outbox/side-effects.ts";
import { customerView } from "./customer-view.ts";

export type Locale = "zh-TW" | "en";

/** What the platform sets on a customer; a field left out keeps its value, `invoiceInfo: null` clears it. */
export interface CustomerChanges {
  name?: string;
  email?: string;
  locale?: Locale;
  /** Already checked and normalized (validateInvoiceInfo). */
  invoiceInfo?: InvoiceInfo | null;
}

export type SaveCustomerResult = { kind: "created" | "updated" | "unchanged"; customer: Customer } | { kind: "not_found" };

type Field = "name" | "email" | "locale" | "invoiceInfo";

// jsonb keeps its own key order, so the details are compared field by field.
const sameInvoiceInfo = (a: InvoiceInfo | null, b: InvoiceInfo | null) =>
  JSON.stringify(a === null ? null : Object.entries(a).sort()) === JSON.stringify(b === null ? null : Object.entries(b).sort());

function changedFields(customer: Customer, changes: CustomerChanges): Field[] {
  const changed: Field[] = [];
  if (changes.name !== undefined && changes.name !== customer.name) changed.push("name");
  if (changes.email !== undefined && changes.email !== customer.email) changed.push("email");
  if (changes.locale !== undefined && changes.locale !== customer.locale) changed.push("locale");
  if (changes.invoiceInfo !== undefined && !sameInvoiceInfo(changes.invoiceInfo, customer.invoice_info)) changed.push("invoiceInfo");
  return changed;
}

const invoiceInfoColumn = (info: InvoiceInfo | null) => (info === null ? null : JSON.stringify(info));

/**
 * Creates or changes a customer in the caller's transaction, under the row's
 * lock. Creating needs a name and an email (else `not_found`). Whenever the
 * stored customer changes, a `customer.updated` event carries the new view and
 * the fields that changed; saving the same values again changes nothing and
 * writes no event, so a retried request is harmless.
 */
export async function saveCustomer(db: Kysely<Database>, effects: SideEffects, id: string, changes: CustomerChanges, now: Date): Promise<SaveCustomerResult> {
  const lock = () => db.selectFrom("customers").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
  let existing = await lock();
  if (existing === undefined) {
    const { name, email } = changes;
    if (name === undefined || email === undefined) return { kind: "not_found" };
    const created = await db
      .insertInto("customers")
      .values({
        id,
        name,
        email,
        ...(changes.locale === undefined ? {} : { locale: changes.locale }),
        invoice_info: invoiceInfoColumn(changes.invoiceInfo ?? null),
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column("id").doNothing())
      .returningAll()
      .executeTakeFirst();
    if (created !== undefined) {
      const fields: Field[] = ["name", "email", "locale", "invoiceInfo"];
      await customerUpdated(db, effects, created, fields, now);
      return { kind: "created", customer: created };
    }
    // Created by a concurrent request since our read: change it like any other.
    existing = (await lock())!;
  }
  const changed = changedFields(existing, changes);
  if (changed.length === 0) return { kind: "unchanged", customer: existing };
  const updated = await db
    .updateTable("customers")
    .set({
      ...(changes.name === undefined ? {} : { name: changes.name }),
      ...(changes.email === undefined ? {} : { email: changes.email }),
      ...(changes.locale === undefined ? {} : { locale: changes.locale }),
      ...(changes.invoiceInfo === undefined ? {} : { invoice_info: invoiceInfoColumn(changes.invoiceInfo) }),
      updated_at: now,
    })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await customerUpdated(db, effects, updated, changed, now);
  return { kind: "updated", customer: updated };
}

async function customerUpdated(db: Kysely<Database>, effects: SideEffects, customer: Customer, changed: Field[], now: Date): Promise<void> {
  const view = customerView(customer);
  // One event per distinct state: two changes within a millisecond still make two events.
  const state = createHash("sha256").update(JSON.stringify(view)).digest("hex").slice(0, 16);
  await effects.event(db, {
    type: "customer.updated",
    dedupeKey: `customer.updated:${customer.id}:${now.getTime()}:${state}`,
    data: { customerId: customer.id, customer: view, changed },
    occurredAt: now,
  });
}
