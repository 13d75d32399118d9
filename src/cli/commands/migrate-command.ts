import type { Command } from "commander";
import { migrateToLatest } from "../../db/migrate.ts";
import { runCommand } from "../run-command.ts";

export function registerMigrate(program: Command): void {
  program
    .command("migrate")
    .description("apply every pending database migration (the service applies them at start too)")
    .action((_options, command: Command) =>
      runCommand(command, async (ctx, out) => {
        const applied = await migrateToLatest(ctx.db);
        out.result({ applied }, () => (applied.length === 0 ? ["migrations: up to date"] : [`migrations applied: ${applied.join(", ")}`]));
      }),
    );
}
