import type { IoCounts } from "./io-counters.ts";

/** What a benchmark's child process tells its parent when asked (over the IPC channel). */
export interface Probe {
  cpuMs: number;
  rssBytes: number;
  io: IoCounts;
  /** Jobs the child's measured worker completed so far. */
  completed: number;
}

export type ChildMessage = { type: "ready"; info: Record<string, unknown> } | { type: "probe"; probe: Probe };

/** In a child: say it is ready, answer probes, and close on SIGTERM or when the parent goes. */
export function serveProbes(info: Record<string, unknown>, read: () => Omit<Probe, "cpuMs" | "rssBytes">, close: () => Promise<void>): void {
  process.on("message", (message: { type?: string }) => {
    if (message.type !== "probe") return;
    const usage = process.cpuUsage();
    const reply: ChildMessage = { type: "probe", probe: { cpuMs: (usage.user + usage.system) / 1000, rssBytes: process.memoryUsage.rss(), ...read() } };
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
