import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

/**
 * Every error leaves as JSON `{ error, message }` with a 4xx that says what to
 * fix, or a 5xx that says nothing internal (details go to the log only).
 */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error.validation !== undefined) {
    // A bad key under propertyNames comes as two errors: the key's, and a bare "property name must be valid".
    const issues = error.validation.filter((issue) => issue.keyword !== "propertyNames");
    return reply.code(400).send({ error: "bad_request", message: `${error.validationContext ?? "request"} ${issues.map(describe).join("; ")}` });
  }
  const status = error.statusCode ?? 500;
  if (status < 500) {
    return reply.code(status).send({ error: error.code === undefined ? "bad_request" : error.code.toLowerCase(), message: error.message });
  }
  request.log.error({ err: error }, "request failed");
  return reply.code(status).send({ error: "internal_error", message: "internal error; see the service log" });
}

function describe(issue: { instancePath: string; message?: string; params?: Record<string, unknown>; propertyName?: string }): string {
  const path = issue.instancePath === "" ? "" : issue.instancePath.replace(/^\//, "").replaceAll("/", ".");
  const where = issue.propertyName === undefined ? path : `${path} property name ${JSON.stringify(issue.propertyName)}`.trim();
  const extra = issue.params?.additionalProperty === undefined ? "" : ` "${String(issue.params.additionalProperty)}"`;
  return `${where}${where === "" ? "" : " "}${issue.message ?? "is invalid"}${extra}`.trim();
}
