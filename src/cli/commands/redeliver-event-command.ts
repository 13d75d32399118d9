import type { Command } from "commander";
import { redeliverEvent } from "../../events/redeliver-event.ts";
import { CliError } from "../cli-error.ts";
import { runCommand } from "../run-command.ts";

export function registerRedeliverEvent(program: Command): void {
  program
    .command("redeliver-event")
    .description("deliver a platform event again (one that failed, or one the platform wants again), same id and body")
    .argument("<eventId>")
    .action((eventId: string, _options, command: Command) =>
      runCommand(command, async (ctx, out) => {
        const deps = await ctx.deps();
        const result = await redeliverEvent(deps, eventId);
        if (result.kind === "not_found") throw new CliError("not_found", `no platform event ${eventId}`);
        out.result({ eventId, ...result }, () => [
          result.kind === "redelivered" ? `event ${eventId} (was ${result.previousStatus}) is pending again and queued now` : `event ${eventId} was still being retried: its next attempt is now`,
        ]);
        if (deps.config.platformWebhook === null) process.stderr.write("PLATFORM_WEBHOOK_URL is not set: the event waits, pending\n");
      }),
    );
}
