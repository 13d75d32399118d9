import { availableParallelism } from "node:os";

/** BENCH_QUICK=1 runs every benchmark 10× smaller, for a quick check that they work. */
export const QUICK = process.env.BENCH_QUICK === "1";

/** A size from the environment (e.g. BENCH_SUBSCRIPTIONS), else the full-size default (÷10 when quick). */
export function benchSize(name: string, fullSize: number): number {
  const raw = process.env[name];
  if (raw !== undefined && raw !== "") {
    const value = Number(raw.replace(/[_,]/g, ""));
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number (got "${raw}")`);
    return value;
  }
  return QUICK ? Math.max(1, Math.round(fullSize / 10)) : fullSize;
}

/** The cores this process may use (what the table reports, and pgbench's thread count). */
export const CORES = availableParallelism();
