import type { Command } from "commander";
import { ConfigError } from "../config.ts";
import { openCliContext, type CliContext } from "./cli-context.ts";
import { CliError } from "./cli-error.ts";
import { createOutput, type Output } from "./print-result.ts";

/** A command's work; it returns its exit code (default 0) or throws. */
export type CommandBody = (ctx: CliContext, out: Output) => Promise<number | void>;

/**
 * Runs one command with the service's environment, then releases every connection. Errors
 * become one clear line each (a JSON `{error, message}` with --json) and a non-zero exit:
 * 2 for bad usage or configuration, 1 for a command that failed.
 */
export async function runCommand(command: Command, body: CommandBody): Promise<void> {
  const out = createOutput(command.optsWithGlobals<{ json?: boolean }>().json === true);
  let ctx: CliContext | undefined;
  try {
    ctx = openCliContext();
    process.exitCode = (await body(ctx, out)) ?? 0;
  } catch (error) {
    process.exitCode = report(out, error);
  } finally {
    await ctx?.close();
  }
}

function report(out: Output, error: unknown): number {
  if (error instanceof ConfigError) {
    if (out.json) out.result({ error: "configuration", problems: error.problems }, () => []);
    for (const problem of error.problems) process.stderr.write(`configuration error: ${problem}\n`);
    return 2;
  }
  const failure = error instanceof CliError ? error : new CliError(error instanceof RangeError ? "bad_request" : "failed", (error as Error).message, error instanceof RangeError ? 2 : 1);
  if (out.json) out.result({ error: failure.code, message: failure.message }, () => []);
  process.stderr.write(`error: ${failure.message}\n`);
  return failure.exitCode;
}
