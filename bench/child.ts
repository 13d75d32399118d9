import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildMessage, Probe, ProbeRequest } from "./probe.ts";

export interface BenchChild {
  pid: number;
  /** What the child said when it was ready (e.g. its URL). */
  info: Record<string, unknown>;
  probe(request?: ProbeRequest): Promise<Probe>;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 60_000;

/**
 * Runs one of the bench/*-process.ts entries in its own Node process (so that
 * its CPU and memory are its own), and waits until it says it is ready.
 */
export async function startChild(entry: string, env: Record<string, string>): Promise<BenchChild> {
  const path = fileURLToPath(new URL(entry, import.meta.url));
  // BENCH_CPU_PROF=<dir>: each child writes a V8 CPU profile there when it exits.
  const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child: ChildProcess = fork(path, [], { env: { ...process.env, ...env }, execArgv: [...process.execArgv, ...profile], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const waiting: Array<(probe: Probe) => void> = [];
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} did not start within ${STARTUP_TIMEOUT_MS} ms`)), STARTUP_TIMEOUT_MS);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with code ${code} before it was ready`));
    });
    child.on("message", (message: ChildMessage) => {
      if (message.type === "ready") {
        clearTimeout(timer);
        resolve(message.info);
      } else if (message.type === "probe") waiting.shift()?.(message.probe);
    });
  });
  return {
    pid: child.pid!,
    info,
    probe: (request = {}) =>
      new Promise<Probe>((resolve) => {
        waiting.push(resolve);
        child.send({ type: "probe", ...request });
      }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
