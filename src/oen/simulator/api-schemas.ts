// JSON schemas of the simulated endpoints, from the field tables of api/*.md. Oen validates
// with the same kind of validator (its messages read "must have required property 'x'; must be
// >= 1"), ignores unknown fields, and does not coerce types.

const productDetail = {
  type: "object",
  required: ["productionCode", "description", "quantity", "unit", "unitPrice"],
  properties: {
    productionCode: { type: "string" },
    description: { type: "string" },
    quantity: { type: "integer", minimum: 1 },
    unit: { type: "string" },
    unitPrice: { type: "integer" },
  },
} as const;

const urlOrNull = { type: ["string", "null"], format: "uri" } as const;

export const checkoutTokenSchema = {
  type: "object",
  required: ["merchantId", "successUrl", "failureUrl"],
  properties: {
    merchantId: { type: "string" },
    successUrl: urlOrNull,
    failureUrl: urlOrNull,
    customId: { type: "string" },
    note: { type: "string" },
    payerEmail: { type: "string", format: "email" },
  },
} as const;

export const tokenChargeSchema = {
  type: "object",
  required: ["merchantId", "amount", "token", "orderId", "productDetails"],
  properties: {
    merchantId: { type: "string" },
    amount: { type: "integer", minimum: 1 },
    currency: { type: "string", enum: ["TWD"] },
    token: { type: "string" },
    orderId: { type: "string", minLength: 1 },
    productDetails: { type: "array", minItems: 1, items: productDetail },
    userId: { type: "string" },
    userName: { type: "string" },
    userEmail: { type: "string", format: "email" },
    userPhone: { type: "string" },
    invoiceInfo: { type: "object" },
    note: { type: "string" },
    expectedPayoutDate: { type: "string", pattern: "^\\d{4}/\\d{2}/\\d{2}$" },
  },
} as const;

export const refundSchema = {
  type: "object",
  required: ["merchantId"],
  properties: {
    merchantId: { type: "string" },
    amount: { type: "integer", minimum: 1 },
    reason: { type: "string" },
    productDetails: { type: "array", items: productDetail },
  },
} as const;
