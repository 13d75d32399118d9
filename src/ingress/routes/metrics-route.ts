import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { Deps } from "../../deps.ts";
import { requireApiKey } from "../api-key-auth.ts";

/**
 * GET /metrics (Prometheus). Business gauges are read from Postgres and the
 * queues at scrape time, so every replica reports the same global truth.
 * Behind its own bearer token, METRICS_TOKEN, when one is set (always with a real Oen token).
 */
export async function metricsRoute(app: FastifyInstance, deps: Pick<Deps, "db" | "queues" | "config">) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "billing_" });
  const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] });
  const queueJobs = gauge("billing_queue_jobs", "Jobs per queue and state", ["queue", "state"]);
  const subscriptions = gauge("billing_subscriptions", "Subscriptions per status", ["status"]);
  const invoices = gauge("billing_invoices", "Invoices per status", ["status"]);
  const unresolved = gauge("billing_charge_attempts_unresolved", "Charge attempts whose outcome is not known yet (sending or unknown)");
  const overdue = gauge("billing_invoices_overdue", "Open invoices due more than 10 minutes ago and not attempted (should stay 0)");
  const inbox = gauge("billing_webhook_inbox_pending", "Webhooks received but not applied yet by a worker");
  const notices = gauge("billing_notices", "Customer notices per status", ["status"]);
  const events = gauge("billing_platform_events", "Platform events per status", ["status"]);

  const byStatus = async (table: "subscriptions" | "invoices" | "notices" | "platform_events", metric: Gauge) => {
    const rows = await deps.db.selectFrom(table).select(["status", sql<string>`count(*)`.as("n")]).groupBy("status").execute();
    metric.reset();
    for (const row of rows) metric.set({ status: row.status }, Number(row.n));
  };

  const token = deps.config.metricsToken;
  const auth = token === null ? {} : { onRequest: requireApiKey([token], "metrics token") };
  app.get("/metrics", { schema: { hide: true }, ...auth }, async (_request, reply) => {
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
      count(deps.db.selectFrom("webhook_inbox").select(sql<string>`count(*)`.as("n")).where("processed_at", "is", null).executeTakeFirst()).then((n) => inbox.set(n)),
      ...deps.queues.all.map(async (queue) => {
        for (const [state, n] of Object.entries(await queue.getJobCounts("waiting", "active", "delayed", "failed", "completed"))) {
          queueJobs.set({ queue: queue.name, state }, n);
        }
      }),
    ]);
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
