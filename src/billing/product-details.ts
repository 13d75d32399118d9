/** One line of what a charge is for; Oen requires `amount` to equal the sum of quantity × unitPrice. */
export interface ProductDetail {
  productionCode: string;
  description: string;
  quantity: number;
  unit: string;
  unitPrice: number;
}
