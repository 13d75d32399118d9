import type { FastifyInstance } from "fastify";
import { validateInvoiceInfo } from "../../billing/einvoice.ts";
import { customerView, findCustomer } from "../../customers/customer-view.ts";
import { saveCustomer, type CustomerChanges } from "../../customers/save-customer.ts";
import type { Deps } from "../../deps.ts";
import { createSideEffects } from "../../outbox/side-effects.ts";
import { invalidInvoiceInfo, invoiceInfoSchema, nullableInvoiceInfoSchema } from "./invoice-info-field.ts";
import { customerEmail, customerLocale, customerName, errorResponse, fieldErrorResponse, idParams } from "./schemas.ts";

const customerViewSchema = {
  type: "object",
  properties: { id: { type: "string" }, name: { type: "string" }, email: { type: "string" }, locale: { type: "string" }, invoiceInfo: nullableInvoiceInfoSchema },
} as const;

const putBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    name: customerName,
    email: customerEmail,
    locale: customerLocale,
    invoiceInfo: { ...nullableInvoiceInfoSchema, description: `null clears the details. ${invoiceInfoSchema.description}` },
  },
} as const;

type PutBody = Omit<CustomerChanges, "invoiceInfo"> & { invoiceInfo?: unknown };

const notFound = (id: string, hint = "") => ({ error: "not_found", message: `customer "${id}" does not exist${hint}` });

/** The customers the platform bills: contact details, language of the emails, e-invoice details. */
export async function customerRoutes(app: FastifyInstance, deps: Deps) {
  app.get<{ Params: { id: string } }>(
    "/v1/customers/:id",
    { schema: { summary: "A customer", tags: ["customers"], params: idParams, response: { 200: customerViewSchema, 400: errorResponse, 404: errorResponse } } },
    async (request, reply) => {
      const customer = await findCustomer(deps.db, request.params.id);
      return customer === undefined ? reply.code(404).send(notFound(request.params.id)) : customerView(customer);
    },
  );

  app.put<{ Params: { id: string }; Body: PutBody }>(
    "/v1/customers/:id",
    {
      schema: {
        summary: "Change a customer, or create one (with name and email)",
        description:
          "Fields left out keep their values. A customer that does not exist is created when name and email are given (201), else 404. " +
          "Each change writes a customer.updated event; saving the same values again writes none.",
        tags: ["customers"],
        params: idParams,
        body: putBody,
        response: { 200: customerViewSchema, 201: customerViewSchema, 400: errorResponse, 404: errorResponse, 422: fieldErrorResponse },
      },
    },
    async (request, reply) => {
      const { invoiceInfo, ...fields } = request.body;
      const info = invoiceInfo === undefined || invoiceInfo === null ? undefined : validateInvoiceInfo(invoiceInfo);
      if (info?.ok === false) return reply.code(422).send(invalidInvoiceInfo(info));
      const changes: CustomerChanges = { ...fields, ...(invoiceInfo === undefined ? {} : { invoiceInfo: info?.value ?? null }) };
      const effects = createSideEffects(deps);
      const saved = await deps.db.transaction().execute((tx) => saveCustomer(tx, effects, request.params.id, changes, deps.clock.now()));
      await effects.flush();
      if (saved.kind === "not_found") return reply.code(404).send(notFound(request.params.id, "; give name and email to create it"));
      return reply.code(saved.kind === "created" ? 201 : 200).send(customerView(saved.customer));
    },
  );
}
