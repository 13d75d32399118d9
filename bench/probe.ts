import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { IoCounts } from "./io-counters.ts";

/** What a benchmark's child process tells its parent when asked (over the IPC channel). */
export interface Probe {
  cpuMs: number;
  rssBytes: number;
  /** The V8 heap in use after a full collection, when the probe asked for one. */
  heapBytes?: number;
  io: IoCounts;
  /** Jobs the child's measured worker completed so far. */
  completed: number;
}

export type ChildMessage = { type: "ready"; info: Record<string, unknown> } | { type: "probe"; probe: Probe };

/** In a child: say it is ready, answer probes, and close on SIGTERM or when the parent goes. */
export function serveProbes(info: Record<string, unknown>, read: () => Omit<Probe, "cpuMs" | "rssBytes">, close: () => Promise<void>): void {
  process.on("message", (message: { type?: string; collect?: boolean }) => {
    if (message.type !== "probe") return;
    const heap = message.collect === true ? { heapBytes: heapAfterCollection() } : {};
    const usage = process.cpuUsage();
    const reply: ChildMessage = { type: "probe", probe: { cpuMs: (usage.user + usage.system) / 1000, rssBytes: process.memoryUsage.rss(), ...heap, ...read() } };
    process.send!(reply);
  });
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    close().finally(() => process.exit(0));
  };
  process.once("SIGTERM", shutdown);
  process.once("disconnect", shutdown);
  const ready: ChildMessage = { type: "ready", info };
  process.send!(ready);
}

// What is still reachable: a heap that grows from round to round holds on to something, an RSS
// that grows while this stays flat is V8 sizing its spaces to the load.
function heapAfterCollection(): number {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
  return process.memoryUsage().heapUsed;
}
