/** A failure the CLI reports in one line and exits with `exitCode` (1: the command failed, 2: bad usage or configuration). */
export class CliError extends Error {
  override name = "CliError";
  readonly exitCode: number;
  /** A short machine-readable name for `--json` (e.g. not_found). */
  readonly code: string;

  constructor(code: string, message: string, exitCode = 1) {
    super(message);
    this.code = code;
    this.exitCode = exitCode;
  }
}
