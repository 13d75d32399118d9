import type { Command } from "commander";
import { collectStatus, type ServiceStatus } from "../collect-status.ts";
import { formatTable } from "../format-table.ts";
import { runCommand } from "../run-command.ts";

export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("subscriptions by state, work due now, unresolved charges and refunds, invoices needing attention, failed jobs, undelivered events")
    .action((_options, command: Command) =>
      runCommand(command, async (ctx, out) => {
        out.result(await collectStatus(await ctx.deps()), humanStatus);
      }),
    );
}

function humanStatus(status: ServiceStatus): string[] {
  const states = Object.entries(status.subscriptions);
  const lines = [
    `status at ${status.at}`,
    "",
    `subscriptions: ${states.length === 0 ? "none" : states.map(([state, n]) => `${state} ${n}`).join(", ")}`,
    `due now: ${status.due.renewals} renewals, ${status.due.invoices} invoices to charge`,
    `unresolved: ${status.unresolved.attempts} charge attempts${status.unresolved.oldestAttemptAt === null ? "" : ` (oldest ${status.unresolved.oldestAttemptAt})`}, ${status.unresolved.refunds} refunds`,
    `webhooks received, not applied yet: ${status.webhooks.notApplied}`,
    `platform events: ${status.events.pending} pending${status.events.oldestPendingAt === null ? "" : ` (oldest ${status.events.oldestPendingAt})`}, ${status.events.failed} failed`,
    `last reconciliation: ${status.reconciliation === null ? "none" : `${status.reconciliation.date} ${status.reconciliation.status}, ${status.reconciliation.differences} differences`}`,
    "",
    `invoices needing attention: ${status.attention.count}`,
  ];
  if (status.attention.invoices.length > 0) {
    lines.push(...formatTable(["invoice", "subscription", "code", "since", "amount"], status.attention.invoices.map((i) => [i.id, i.subscriptionId, i.code, i.since, i.amount])).map((l) => `  ${l}`));
  }
  lines.push("");
  if ("error" in status.jobs) {
    lines.push(`jobs: ${status.jobs.error}`);
  } else {
    lines.push("jobs:", ...formatTable(["queue", "failed", "waiting", "delayed", "active"], Object.entries(status.jobs).map(([queue, c]) => [queue, c.failed, c.waiting, c.delayed, c.active])).map((l) => `  ${l}`));
  }
  return lines;
}
