/** Where a command's answer goes: one JSON document with --json (for scripts), else lines for a person. */
export interface Output {
  json: boolean;
  /** The answer: `value` as JSON, or the lines `human` makes of it. */
  result<T>(value: T, human: (value: T) => string[]): void;
  /** Progress of a long run, on stderr (stdout stays the answer). */
  progress(line: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(value, human) {
      process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : human(value).map((line) => `${line}\n`).join(""));
    },
    progress(line) {
      process.stderr.write(`${line}\n`);
    },
  };
}
