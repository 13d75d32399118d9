import { setTimeout as sleep } from "node:timers/promises";
import type { BenchChild } from "./child.ts";
import type { Probe } from "./probe.ts";

/** Polls a child until its worker completed `count` more jobs than `from`; returns the last probe. */
export async function waitForCompletions(child: BenchChild, from: number, count: number, timeoutMs: number): Promise<Probe> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = await child.probe();
    if (probe.completed - from >= count) return probe;
    if (Date.now() > deadline) throw new Error(`only ${probe.completed - from} of ${count} jobs completed within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(20);
  }
}
