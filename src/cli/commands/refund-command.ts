import type { Command } from "commander";
import { refundInvoice } from "../../refunds/refund-invoice.ts";
import { refundView } from "../../refunds/refund-view.ts";
import { CliError } from "../cli-error.ts";
import { wholeNumber } from "../parse-options.ts";
import { runCommand } from "../run-command.ts";

export function registerRefund(program: Command): void {
  program
    .command("refund")
    .description("refund a paid invoice's charge, all that is left by default (Oen refunds a charge only once)")
    .argument("<invoiceId>")
    .option("--amount <twd>", "whole TWD to refund (default: all that is left)", wholeNumber(1))
    .option("--reason <text>", "why, sent to Oen and kept with the refund")
    .action((invoiceId: string, options: { amount?: number; reason?: string }, command: Command) =>
      runCommand(command, async (ctx, out) => {
        ctx.needsOen();
        const result = await refundInvoice(await ctx.deps(), invoiceId, { amount: options.amount, reason: options.reason });
        if (result.kind === "refused") throw new CliError(result.error, result.message);
        const view = refundView(result.refund);
        out.result(view, (r) => [`refund ${r.id} of ${r.amount} TWD for invoice ${r.invoiceId}: ${r.status}${r.code === null ? "" : ` (${r.code} ${r.message ?? ""})`.trimEnd()}`]);
        if (view.status === "pending" || view.status === "unknown") process.stderr.write("Oen's answer did not settle it: the refund is looked up, never sent again\n");
        return view.status === "failed" ? 1 : 0;
      }),
    );
}
