// `npm run bench`: every benchmark in turn, each in its own process (its own private servers),
// then one table of figure, baseline, ratio, target and pass/fail, with the machine it ran on.
// BENCH_QUICK=1 runs them 10× smaller; BENCH_ONLY=sweep,charges picks some.
import { spawn } from "node:child_process";
import { cpus } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { formatTable, ROW_PREFIX, type BenchRow } from "./bench-row.ts";
import { CORES, QUICK } from "./bench-size.ts";

const BENCHMARKS = ["sweep", "charges", "ingress", "latency", "memory"];
const only = process.env.BENCH_ONLY?.split(",").map((name) => name.trim());

async function runBenchmark(name: string): Promise<{ rows: BenchRow[]; code: number | null; seconds: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [fileURLToPath(new URL(`./${name}.ts`, import.meta.url))], { stdio: ["ignore", "pipe", "inherit"] });
  const rows: BenchRow[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith(ROW_PREFIX)) rows.push(JSON.parse(line.slice(ROW_PREFIX.length)) as BenchRow);
  }
  const code = child.exitCode ?? (await new Promise<number | null>((resolve) => child.once("exit", resolve)));
  return { rows, code, seconds: (performance.now() - started) / 1000 };
}

const rows: BenchRow[] = [];
const failed: string[] = [];
for (const name of BENCHMARKS.filter((benchmark) => only === undefined || only.includes(benchmark))) {
  console.error(`bench: ${name}…`);
  const result = await runBenchmark(name);
  console.error(`bench: ${name} took ${result.seconds.toFixed(0)} s${result.code === 0 ? "" : `, exit code ${result.code}`}`);
  if (result.code !== 0) failed.push(name);
  rows.push(...result.rows);
}

const machine = `${CORES} cores (${cpus()[0]?.model.trim() ?? "unknown CPU"}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}${QUICK ? ", BENCH_QUICK=1 (10× smaller)" : ""}, servers: ${process.env.BENCH_SERVERS === "external" ? "DATABASE_URL / REDIS_URL" : "private Postgres and Redis"}`;
console.log(`\n${machine}\n`);
console.log(formatTable(rows));
const passed = rows.filter((r) => r.pass === true).length;
const missed = rows.filter((r) => r.pass === false).length;
console.log(`\n${passed} targets met, ${missed} missed${failed.length > 0 ? `; benchmarks that did not finish: ${failed.join(", ")}` : ""}`);
// Missed targets are figures, not errors; a benchmark that crashed is.
process.exitCode = failed.length > 0 ? 1 : 0;
