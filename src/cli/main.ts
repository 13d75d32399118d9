// `npx billing <command>` (bin/billing.js runs this on the pinned Node): the on-call engineer's
// commands. They read the same environment as the service (DATABASE_URL, REDIS_URL, OEN_*,
// TOKEN_ENCRYPTION_KEYS, …) and may run while it runs.
import { Command, CommanderError } from "commander";
import packageJson from "../../package.json" with { type: "json" };
import { registerMigrate } from "./commands/migrate-command.ts";
import { registerReconcile } from "./commands/reconcile-command.ts";
import { registerRedeliverEvent } from "./commands/redeliver-event-command.ts";
import { registerRefund } from "./commands/refund-command.ts";
import { registerReplayWebhook } from "./commands/replay-webhook-command.ts";
import { registerResolveUnknown } from "./commands/resolve-unknown-command.ts";
import { registerRetryInvoice } from "./commands/retry-invoice-command.ts";
import { registerRotateKeys } from "./commands/rotate-keys-command.ts";
import { registerStatus } from "./commands/status-command.ts";

// Connections are closed when a command ends; should one linger, the process still ends.
const FORCED_EXIT_MS = 5_000;

const program = new Command("billing")
  .description("On-call commands of the Oen recurring billing service.\nExit status: 0 done, 1 the command failed, 2 bad usage or configuration.")
  .version(packageJson.version)
  .option("--json", "print the answer as one JSON document (for scripts)")
  .exitOverride()
  .showHelpAfterError("(billing --help lists the commands)");
for (const register of [registerMigrate, registerStatus, registerReconcile, registerReplayWebhook, registerResolveUnknown, registerRetryInvoice, registerRefund, registerRedeliverEvent, registerRotateKeys]) {
  register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  // Help and --version exit 0; a usage error (commander printed it) exits 2.
  process.exitCode = error.exitCode === 0 ? 0 : 2;
}
setTimeout(() => process.exit(), FORCED_EXIT_MS).unref();
