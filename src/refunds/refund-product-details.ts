import type { ProductDetail } from "../oen/types.ts";

/**
 * The allowance (折讓) lines a refund carries: Oen requires them when the transaction has an
 * e-invoice and wants them to sum to the refund amount. A full refund repeats the invoice's
 * lines; a partial one is a single line of the first product for the amount.
 */
export function refundProductDetails(invoiceLines: readonly ProductDetail[], amount: number): ProductDetail[] {
  const total = invoiceLines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
  const first = invoiceLines[0];
  if (total === amount || first === undefined) return [...invoiceLines];
  return [{ productionCode: first.productionCode, description: first.description, quantity: 1, unit: first.unit, unitPrice: amount }];
}
