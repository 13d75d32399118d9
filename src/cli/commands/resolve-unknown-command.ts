import type { Command } from "commander";
import { resolveUnknown } from "../resolve-unknown.ts";
import { runCommand } from "../run-command.ts";

export function registerResolveUnknown(program: Command): void {
  program
    .command("resolve-unknown")
    .description("look up now, at Oen, every charge attempt and refund whose outcome is unknown")
    .action((_options, command: Command) =>
      runCommand(command, async (ctx, out) => {
        const result = await resolveUnknown(await ctx.deps());
        out.result(result, (r) => [
          `order lookups enqueued: ${r.attempts.length}${r.attempts.length === 0 ? "" : ` (${r.attempts.map((a) => `${a.orderId} ${a.status}`).join(", ")})`}`,
          `refund lookups enqueued: ${r.refunds.length}${r.refunds.length === 0 ? "" : ` (${r.refunds.map((f) => `${f.id} ${f.status}`).join(", ")})`}`,
          "the workers settle them; see `billing status`",
        ]);
      }),
    );
}
