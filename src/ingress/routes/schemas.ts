// Shared JSON schemas of the platform API (also published as OpenAPI).

export const platformId = { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$", description: "letters, digits, _ and -; at most 64" } as const;
export const httpUrl = { type: "string", format: "uri", pattern: "^https?://", maxLength: 2048 } as const;
export const errorResponse = {
  type: "object",
  properties: { error: { type: "string" }, message: { type: "string" } },
} as const;
/** A 4xx about one field of the request, which `field` names (also in the message). */
export const fieldErrorResponse = {
  type: "object",
  properties: { ...errorResponse.properties, field: { type: "string" } },
} as const;
export const idParams = { type: "object", required: ["id"], properties: { id: platformId } } as const;

export const customerName = { type: "string", minLength: 1, maxLength: 100 } as const;
export const customerEmail = { type: "string", format: "email", maxLength: 254 } as const;
export const customerLocale = { type: "string", enum: ["zh-TW", "en"] } as const;

const nullableTime = { type: ["string", "null"], format: "date-time" } as const;
const time = { type: "string", format: "date-time" } as const;

export const planViewSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    amount: { type: "integer" },
    currency: { type: "string" },
    interval: { type: "string", enum: ["day", "week", "month", "year"] },
    intervalCount: { type: "integer" },
    productCode: { type: "string" },
    description: { type: "string" },
    unit: { type: "string" },
    trialDays: { type: "integer" },
    selfService: { type: "boolean" },
  },
} as const;

export const invoiceSummarySchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    subscriptionId: { type: "string" },
    kind: { type: "string", enum: ["renewal", "proration"] },
    cycle: { type: "integer" },
    status: { type: "string", enum: ["open", "paid", "uncollectible", "void"] },
    amount: { type: "integer" },
    amountRefunded: { type: "integer" },
    currency: { type: "string" },
    periodStart: time,
    periodEnd: time,
    attemptCount: { type: "integer" },
    nextAttemptAt: nullableTime,
    paidAt: nullableTime,
    needsAttention: { anyOf: [{ type: "null" }, { type: "object", properties: { code: { type: "string" }, since: nullableTime } }] },
    createdAt: time,
  },
} as const;

export const refundSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    invoiceId: { type: "string" },
    amount: { type: "integer" },
    reason: { type: ["string", "null"] },
    cause: { type: "string", enum: ["requested", "terminate", "double_charge", "crm"] },
    status: { type: "string", enum: ["pending", "succeeded", "failed", "unknown"] },
    oenTransactionId: { type: "string" },
    code: { type: ["string", "null"] },
    message: { type: ["string", "null"] },
    createdAt: time,
    sentAt: nullableTime,
    resolvedAt: nullableTime,
  },
} as const;

// Answers are serialized through these schemas: a field not listed here never leaves the service.
export const subscriptionViewSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    status: { type: "string", enum: ["incomplete", "incomplete_expired", "trialing", "active", "past_due", "unpaid", "canceled"] },
    planId: { type: "string" },
    customer: { type: "object", properties: { id: { type: "string" }, name: { type: "string" }, email: { type: "string" } } },
    currentCycle: { type: "integer" },
    currentPeriodStart: nullableTime,
    currentPeriodEnd: nullableTime,
    cancelAtPeriodEnd: { type: "boolean" },
    canceledAt: nullableTime,
    endedAt: nullableTime,
    trialStart: nullableTime,
    trialEnd: nullableTime,
    pendingPlanId: { type: ["string", "null"], description: "a downgrade waiting for the period end" },
    metadata: { type: "object", additionalProperties: { type: "string" } },
    card: { anyOf: [{ type: "null" }, { type: "object", properties: { last4: { type: ["string", "null"] } } }] },
    latestInvoice: { anyOf: [{ type: "null" }, invoiceSummarySchema] },
    createdAt: time,
  },
} as const;

const attemptSchema = {
  type: "object",
  properties: {
    attemptNo: { type: "integer" },
    orderId: { type: "string" },
    amount: { type: "integer" },
    outcome: { type: "string", enum: ["sending", "succeeded", "declined", "unknown", "not_found", "failed"] },
    code: { type: ["string", "null"] },
    message: { type: ["string", "null"] },
    oenTransactionId: { type: ["string", "null"] },
    createdAt: time,
    resolvedAt: nullableTime,
  },
} as const;

/** An invoice with its charge attempts and refunds (GET /v1/invoices/:id, and each of a subscription's invoices). */
export const invoiceDetailSchema = {
  ...invoiceSummarySchema,
  properties: {
    ...invoiceSummarySchema.properties,
    attempts: { type: "array", items: attemptSchema },
    refunds: { type: "array", items: refundSchema },
  },
} as const;

export const invoiceListSchema = { type: "object", properties: { data: { type: "array", items: invoiceDetailSchema } } } as const;
