import type { Command } from "commander";
import type { Reconciliation } from "../../db/database.ts";
import { reconcileDay } from "../../reconciliation/reconcile-day.ts";
import { reconciliationView } from "../../reconciliation/reconciliation-view.ts";
import { taipeiDateOf } from "../../reconciliation/taipei-day.ts";
import { CliError } from "../cli-error.ts";
import { formatTable } from "../format-table.ts";
import { calendarDate } from "../parse-options.ts";
import { runCommand } from "../run-command.ts";

const DAY_MS = 24 * 3600_000;

export function registerReconcile(program: Command): void {
  program
    .command("reconcile")
    .description("compare one Taipei day of Oen's transaction list with our charges and refunds: record CRM refunds, refund double charges, report the rest")
    .option("--date <YYYY-MM-DD>", "the Taipei day (default: yesterday)", calendarDate)
    .action((options: { date?: string }, command: Command) =>
      runCommand(command, async (ctx, out) => {
        ctx.needsOen();
        const deps = await ctx.deps();
        const today = taipeiDateOf(deps.clock.now());
        const date = options.date ?? taipeiDateOf(new Date(deps.clock.now().getTime() - DAY_MS));
        if (date > today) throw new CliError("bad_request", `--date ${date} has not begun in Taipei (today is ${today})`, 2);
        const result = await reconcileDay(deps, date, { onPage: ({ pages, listed }) => out.progress(`reconcile ${date}: page ${pages}, ${listed} transactions listed`) });
        if (result.kind === "busy") {
          throw new CliError("busy", `another run is reconciling ${date} (started ${result.reconciliation?.started_at.toISOString() ?? "just now"}); try again once it is done`);
        }
        out.result(reconciliationView(result.reconciliation), () => humanReconciliation(result.reconciliation));
      }),
    );
}

function humanReconciliation(row: Reconciliation): string[] {
  const counts = row.counts!;
  const differences = row.differences ?? [];
  const lines = [
    `reconciliation of ${row.date} (run ${row.runs}): ${counts.listed} transactions listed in ${counts.pages} pages, ${counts.matched} of ours agree`,
    `skipped: ${counts.bindingAuthorisations} card-binding authorisations, ${counts.otherPayments} payments not made through the API`,
    `differences: ${differences.length} (unknown ${counts.unknownTransactions}, missing at Oen ${counts.missingAtOen}, CRM refunds ${counts.crmRefunds}, status ${counts.statusMismatches}, double charges ${counts.doubleCharges})`,
  ];
  if (differences.length > 0) {
    lines.push("", ...formatTable(["kind", "transaction", "invoice", "amount", "action", "detail"], differences.map((d) => [d.kind, d.oenTransactionId, d.invoiceId, d.amount, d.action, d.detail])));
  }
  return lines;
}
