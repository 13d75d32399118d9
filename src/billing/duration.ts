// Durations written the way people configure them ("30s", "1d", "1h30m"), so a
// test can run the dunning schedule and the sweep in seconds.

// Largest first: a compound duration must list its units in this order, each once.
const UNIT_MS = [
  ["w", 604_800_000],
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
  ["ms", 1],
] as const;

// "ms" is tried before "m" and "s" so that "500ms" is not read as 500 minutes.
const PART = /(\d+)(ms|w|d|h|m|s)/y;

function invalid(text: string): RangeError {
  return new RangeError(
    `invalid duration ${JSON.stringify(text)}: expected whole numbers with units w, d, h, m, s or ms, largest first (e.g. "30s", "1d", "1h30m")`,
  );
}

/** Milliseconds in a duration such as "500ms", "30s", "5m", "2h", "1d", "1w" or "1h30m". */
export function parseDuration(text: string): number {
  const source = text.trim();
  if (source === "") throw invalid(text);
  let total = 0;
  let previousRank = -1;
  PART.lastIndex = 0;
  while (PART.lastIndex < source.length) {
    const match = PART.exec(source);
    if (match === null) throw invalid(text);
    const [, amount, unit] = match;
    const rank = UNIT_MS.findIndex(([name]) => name === unit);
    if (rank <= previousRank) throw invalid(text);
    previousRank = rank;
    total += Number(amount) * UNIT_MS[rank]![1];
  }
  if (!Number.isSafeInteger(total)) throw invalid(text);
  return total;
}

/** A comma-separated list such as "1d,3d,5d,7d"; an empty string is an empty list. */
export function parseDurationList(text: string): number[] {
  if (text.trim() === "") return [];
  return text.split(",").map((item) => {
    try {
      return parseDuration(item);
    } catch (error) {
      throw new RangeError(`invalid duration list ${JSON.stringify(text)}: ${(error as Error).message}`, { cause: error });
    }
  });
}

/** A readable form for logs, e.g. 90_061_001 → "1d1h1m1s1ms"; parseDuration reads it back. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`cannot format duration ${ms}`);
  const sign = ms < 0 ? "-" : "";
  let rest = Math.round(Math.abs(ms));
  if (rest === 0) return "0ms";
  let text = "";
  // Weeks are left out: "10d" reads better in a log than "1w3d".
  for (const [unit, size] of UNIT_MS.slice(1)) {
    const amount = Math.floor(rest / size);
    if (amount > 0) text += `${amount}${unit}`;
    rest -= amount * size;
  }
  return sign + text;
}
