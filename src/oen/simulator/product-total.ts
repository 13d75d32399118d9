import type { ProductDetail } from "../types.ts";

/** Σ quantity × unitPrice: Oen requires it to equal the amount (PRODUCT_AMOUNT_NOT_MATCH). */
export function productTotal(productDetails: readonly ProductDetail[]): number {
  return productDetails.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);
}
