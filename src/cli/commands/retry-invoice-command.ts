import type { Command } from "commander";
import { CliError } from "../cli-error.ts";
import { retryInvoice } from "../retry-invoice.ts";
import { runCommand } from "../run-command.ts";

export function registerRetryInvoice(program: Command): void {
  program
    .command("retry-invoice")
    .description("charge an open invoice now, on the subscription's card, and show Oen's answer")
    .argument("<invoiceId>")
    .action((invoiceId: string, _options, command: Command) =>
      runCommand(command, async (ctx, out) => {
        ctx.needsOen();
        const result = await retryInvoice(await ctx.deps(), invoiceId);
        switch (result.kind) {
          case "sent": {
            const { attempt, invoice } = result.settled;
            const view = { invoiceId, outcome: result.outcome, invoiceStatus: invoice.status, orderId: attempt.order_id, attemptStatus: attempt.status, code: attempt.code, message: attempt.message, nextAttemptAt: invoice.next_attempt_at?.toISOString() ?? null };
            out.result(view, (v) => [`invoice ${invoiceId}: charge ${v.orderId} ${v.attemptStatus}${v.code === null ? "" : ` (${v.code}${v.message === null ? "" : ` ${v.message}`})`}; the invoice is ${v.invoiceStatus}`]);
            if (result.outcome === "unknown") process.stderr.write("the outcome is unknown: the order lookup settles it (never charge again by hand)\n");
            return invoice.status === "paid" ? 0 : 1;
          }
          case "in_flight":
            throw new CliError("in_flight", `invoice ${invoiceId} has an attempt whose outcome is not known yet (${result.attempt.order_id}, ${result.attempt.status}): run \`billing resolve-unknown\` and wait for it`);
          case "stale":
            throw new CliError("stale", `the attempt ${result.orderId} went stale before it was sent; the order lookup settles it`);
          case "not_due":
            throw new CliError("not_due", `the card may not be charged before ${result.at?.toISOString() ?? "a new card is bound"} (its networks' attempt limit)`);
          case "no_card":
            throw new CliError("no_card", `the subscription of invoice ${invoiceId} has no card on file`);
          case "not_collectable":
            throw new CliError("not_collectable", `the subscription of invoice ${invoiceId} is ${result.subscriptionStatus}: nothing is charged`);
          case "settled":
            throw new CliError("not_open", `invoice ${invoiceId} is ${result.status}`);
        }
      }),
    );
}
