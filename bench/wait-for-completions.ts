import type { BenchChild } from "./child.ts";
import type { Probe } from "./probe.ts";

/** Until a child's worker completed `count` more jobs than `from` (the child watches its own counter); returns that probe. */
export async function waitForCompletions(child: BenchChild, from: number, count: number, timeoutMs: number): Promise<Probe> {
  const probe = await child.probe({ until: from + count, waitMs: timeoutMs });
  if (probe.completed - from < count) throw new Error(`only ${probe.completed - from} of ${count} jobs completed within ${Math.round(timeoutMs / 1000)} s`);
  return probe;
}
