import { readFileSync } from "node:fs";

// /proc/<pid>/stat counts CPU in clock ticks; Linux reports 100 a second to user space (USER_HZ).
const MS_PER_TICK = 10;

/** User + system CPU of a process so far, in ms; null when it is gone (or not on this machine). */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command (in parentheses, possibly with spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  } catch {
    return null;
  }
}

/** Resident set size of a process, in bytes; null when it is gone. */
export function processRssBytes(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

export interface CpuSampler {
  /** CPU ms the processes spent since the start (a process born meanwhile counts from 0). */
  stop(): Promise<number>;
  /** After stop: the same CPU by kind of process (its title: "backend", "autovacuum worker", "walwriter", …). */
  byKind(): Record<string, number>;
}

/** What a Postgres process is, from its title ("postgres: walwriter", "postgres: user db 127.0.0.1(5432) idle"). */
function processKind(pid: number): string {
  try {
    const title = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
    const role = /^postgres: (.*)$/.exec(title)?.[1];
    if (role === undefined) return "main";
    return /^\S+ \S+ (\[local\]|[\d.:a-f]+\(\d+\))/.test(role) ? "backend" : role.replace(/ (launcher|worker).*$/, " $1").replace(/\s+\S*\d.*$/, "");
  } catch {
    return "gone";
  }
}

/**
 * Samples the CPU of a changing set of processes (Postgres backends come and go with
 * connections) often enough that one that exits loses at most one interval of its CPU.
 */
export async function startCpuSampler(pids: () => Promise<number[]>, intervalMs = 200): Promise<CpuSampler> {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const kinds = new Map<number, string>();
  let sampling = Promise.resolve();
  const sample = async (initial: boolean) => {
    for (const pid of await pids()) {
      const cpu = processCpuMs(pid);
      if (cpu === null) continue;
      if (!first.has(pid)) {
        first.set(pid, initial ? cpu : 0);
        kinds.set(pid, processKind(pid));
      }
      last.set(pid, cpu);
    }
  };
  await sample(true);
  const timer = setInterval(() => {
    sampling = sampling.then(() => sample(false)).catch(() => {});
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await sampling;
      await sample(false);
      let total = 0;
      for (const [pid, cpu] of last) total += cpu - first.get(pid)!;
      return total;
    },
    byKind() {
      const totals: Record<string, number> = {};
      for (const [pid, cpu] of last) totals[kinds.get(pid)!] = (totals[kinds.get(pid)!] ?? 0) + cpu - first.get(pid)!;
      return totals;
    },
  };
}
