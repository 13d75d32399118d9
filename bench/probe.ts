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

/** `collect`: a full garbage collection first, and `heapBytes`. `until`: answer once `completed` reached it, or after `waitMs`. */
export interface ProbeRequest {
  collect?: boolean;
  until?: number;
  waitMs?: number;
}

const WATCH_MS = 5;

export type ChildMessage = { type: "ready"; info: Record<string, unknown> } | { type: "probe"; probe: Probe };

/** In a child: say it is ready, answer probes, and close on SIGTERM or when the parent goes. */
export function serveProbes(info: Record<string, unknown>, read: () => Omit<Probe, "cpuMs" | "rssBytes">, close: () => Promise<void>): void {
  const answer = (collect: boolean) => {
    const heap = collect ? { heapBytes: heapAfterCollection() } : {};
    const usage = process.cpuUsage();
    const reply: ChildMessage = { type: "probe", probe: { cpuMs: (usage.user + usage.system) / 1000, rssBytes: process.memoryUsage.rss(), ...heap, ...read() } };
    process.send!(reply);
  };
  process.on("message", (message: ProbeRequest & { type?: string }) => {
    if (message.type !== "probe") return;
    const collect = message.collect === true;
    const { until, waitMs = 0 } = message;
    if (until === undefined || read().completed >= until) return answer(collect);
    // Watched here, not polled by the parent: a probe (IPC, CPU and RSS readings) every few ms
    // would be CPU the benchmark bills to the worker (22 ms a second at 50 probes a second).
    const deadline = performance.now() + waitMs;
    const watch = setInterval(() => {
      if (read().completed < until && performance.now() < deadline) return;
      clearInterval(watch);
      answer(collect);
    }, WATCH_MS);
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
