import type { Db } from "../db/connect.ts";
import type { Customer } from "../db/database.ts";

/** The platform's view of a customer (GET /v1/customers/:id, and the customer.updated event). */
export function customerView(customer: Customer) {
  return { id: customer.id, name: customer.name, email: customer.email, locale: customer.locale, invoiceInfo: customer.invoice_info };
}

export type CustomerView = ReturnType<typeof customerView>;

export async function findCustomer(db: Db, id: string): Promise<Customer | undefined> {
  return db.selectFrom("customers").selectAll().where("id", "=", id).executeTakeFirst();
}
