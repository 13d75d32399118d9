import type { Command } from "commander";
import { wholeNumber } from "../parse-options.ts";
import { rotateTokenKeys } from "../rotate-token-keys.ts";
import { runCommand } from "../run-command.ts";

export function registerRotateKeys(program: Command): void {
  program
    .command("rotate-keys")
    .description("re-encrypt every stored card token under the first key of TOKEN_ENCRYPTION_KEYS, in batches, while the service runs (stop and run again to resume)")
    .option("--batch-size <n>", "tokens per transaction", wholeNumber(1), 100)
    .option("--pause-ms <ms>", "pause between batches, to go easy on a busy database", wholeNumber(0), 0)
    .action((options: { batchSize: number; pauseMs: number }, command: Command) =>
      runCommand(command, async (ctx, out) => {
        const keyId = ctx.config.tokenKeys.primaryId;
        out.progress(`rotate-keys: re-encrypting under key ${keyId}, ${options.batchSize} at a time`);
        const result = await rotateTokenKeys(ctx.db, ctx.config.tokenKeys, {
          batchSize: options.batchSize,
          pauseMs: options.pauseMs,
          onProgress: ({ rotated, total }) => out.progress(`rotate-keys: ${rotated}/${total} tokens (${Math.floor((100 * rotated) / Math.max(total, 1))}%)`),
        });
        const done = result.remaining === 0 && result.webhooksUnderOtherKeys === 0;
        out.result({ ...result, done }, (r) => [
          `${r.rotated} card tokens re-encrypted under key ${r.keyId}; ${r.remaining} left under other keys`,
          ...(r.webhooksUnderOtherKeys > 0 ? [`${r.webhooksUnderOtherKeys} webhooks received but not applied yet are sealed under other keys: keep those keys until they are applied`] : []),
          done ? `every token is sealed under ${r.keyId}: the other keys may now leave TOKEN_ENCRYPTION_KEYS` : "run again to finish",
        ]);
        return done ? 0 : 1;
      }),
    );
}
