import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { Gauge, Registry } from "prom-client";
import type { Deps } from "../../deps.ts";
import { metricsRegistry } from "../../metrics/metrics.ts";
import { requireApiKey } from "../api-key-auth.ts";
import { errorResponse } from "./schemas.ts";

// Every status a gauge reports, 0 included, so a series never vanishes when its count drops to none.
const STATUSES = {
  subscriptions: ["incomplete", "incomplete_expired", "trialing", "active", "past_due", "unpaid", "canceled"],
  invoices: ["open", "paid", "uncollectible", "void"],
  notices: ["pending", "sent", "failed", "outbox", "skipped"],
  platform_events: ["pending", "delivered", "failed"],
} as const;

/**
 * GET /metrics (Prometheus): the process's counters and histograms (src/metrics),
 * its process_* and nodejs_* metrics, and business gauges read from Postgres
 * and the queues at scrape time, so every replica reports the same global truth.
 * Behind its own bearer token, METRICS_TOKEN, when one is set (always with a real Oen token).
 */
export async function metricsRoute(app: FastifyInstance, deps: Pick<Deps, "db" | "queues" | "config">) {
  // The gauges are this app's (they read its database); the counters are the process's.
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] });
  const queueJobs = gauge("billing_queue_jobs", "Jobs per queue and state", ["queue", "state"]);
  const subscriptions = gauge("billing_subscriptions", "Subscriptions per status", ["status"]);
  const invoices = gauge("billing_invoices", "Invoices per status", ["status"]);
  const unresolved = gauge("billing_charge_attempts_unresolved", "Charge attempts whose outcome is not known yet (sending or unknown)");
  const overdue = gauge("billing_invoices_overdue", "Open invoices due more than 10 minutes ago and not attempted (should stay 0)");
  const inbox = gauge("billing_webhook_inbox_pending", "Webhooks received but not applied yet by a worker");
  const notices = gauge("billing_notices", "Customer notices per status", ["status"]);
  const events = gauge("billing_platform_events", "Platform events per status", ["status"]);
  const attention = gauge("billing_invoices_needing_attention", "Invoices held because Oen refused the merchant, not the card (K0001, configuration): ops must act");

  const byStatus = async (table: keyof typeof STATUSES, metric: Gauge) => {
    const rows = await deps.db.selectFrom(table).select(["status", sql<string>`count(*)`.as("n")]).groupBy("status").execute();
    metric.reset();
    for (const status of STATUSES[table]) metric.set({ status }, 0);
    for (const row of rows) metric.set({ status: row.status }, Number(row.n));
  };

  const token = deps.config.metricsToken;
  const auth = token === null ? {} : { onRequest: requireApiKey([token], "metrics token") };
  const schema = {
    summary: "Prometheus metrics: counters and histograms of this process, gauges of what waits",
    description: "README \"Metrics and alerts\" lists the series and the alerts we recommend. Bearer METRICS_TOKEN when one is set.",
    operationId: "getMetrics",
    tags: ["operations"],
    // Open when METRICS_TOKEN is unset (development only); documented as it runs in production.
    security: [{ metricsToken: [] }],
    response: {
      200: { description: "Prometheus text exposition format", content: { "text/plain": { schema: { type: "string" } } } },
      401: { description: "missing or invalid METRICS_TOKEN", ...errorResponse },
    },
  };
  app.get("/metrics", { schema, ...auth }, async (_request, reply) => {
    const count = async (query: Promise<{ n: string } | undefined>) => Number((await query)?.n ?? 0);
    await Promise.all([
      byStatus("subscriptions", subscriptions),
      byStatus("invoices", invoices),
      byStatus("notices", notices),
      byStatus("platform_events", events),
      count(deps.db.selectFrom("charge_attempts").select(sql<string>`count(*)`.as("n")).where("status", "in", ["sending", "unknown"]).executeTakeFirst()).then((n) => unresolved.set(n)),
      count(
        deps.db
          .selectFrom("invoices")
          .select(sql<string>`count(*)`.as("n"))
          .where("status", "=", "open")
          .where("next_attempt_at", "<", sql<Date>`now() - interval '10 minutes'`)
          .executeTakeFirst(),
      ).then((n) => overdue.set(n)),
      count(deps.db.selectFrom("invoices").select(sql<string>`count(*)`.as("n")).where("attention_code", "is not", null).executeTakeFirst()).then((n) => attention.set(n)),
      count(deps.db.selectFrom("webhook_inbox").select(sql<string>`count(*)`.as("n")).where("processed_at", "is", null).executeTakeFirst()).then((n) => inbox.set(n)),
      ...deps.queues.all.map(async (queue) => {
        for (const [state, n] of Object.entries(await queue.getJobCounts("waiting", "active", "delayed", "failed", "completed"))) {
          queueJobs.set({ queue: queue.name, state }, n);
        }
      }),
    ]);
    // Merged at each scrape: the process's registry gains the default metrics when a service starts.
    const served = Registry.merge([metricsRegistry, registry]);
    return reply.type(served.contentType).send(await served.metrics());
  });
}
