import type { Command } from "commander";
import { replayWebhook } from "../replay-webhook.ts";
import { runCommand } from "../run-command.ts";

export function registerReplayWebhook(program: Command): void {
  program
    .command("replay-webhook")
    .description("put a received Oen webhook on the queue again from its Postgres copy (the worker's checks apply again)")
    .argument("<id>", "a webhook_inbox id or job id (oen-token-…, oen-other-…), or with --event an oen_webhook_events id")
    .option("--event", "<id> is an oen_webhook_events id: replay the delivery that record is about")
    .action((id: string, options: { event?: boolean }, command: Command) =>
      runCommand(command, async (ctx, out) => {
        const result = await replayWebhook(await ctx.deps(), { table: options.event === true ? "oen_webhook_events" : "webhook_inbox", id });
        out.result(result, (r) => [`webhook ${r.inboxId} (${r.kind}${r.oenId === null ? "" : ` ${r.oenId}`}) queued again as job ${r.jobId}`]);
      }),
    );
}
