import { execFile } from "node:child_process";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { sql } from "kysely";
import type { BenchEnvironment } from "./bench-environment.ts";
import { CORES } from "./bench-size.ts";
import { startCpuSampler } from "./cpu-sampler.ts";

const run = promisify(execFile);
const ROWS = 100_000;

// Two short transactions per "charge", as the write-ahead charge path needs at the least:
// claim (the invoice row and a new attempt row), then settle (the invoice paid).
const SCRIPT = `\\set id random(1, ${ROWS})
BEGIN;
UPDATE pgbench_invoices SET attempt_count = attempt_count + 1, updated_at = now() WHERE id = :id;
INSERT INTO pgbench_attempts (invoice_id, status) VALUES (:id, 'sending');
COMMIT;
BEGIN;
UPDATE pgbench_invoices SET status = 'paid', updated_at = now() WHERE id = :id;
COMMIT;
`;

export interface PgbenchResult {
  chargesPerSecond: number;
  postgresCpuMsPerCharge: number;
  statementsPerCharge: number;
}

/** pgbench (extended protocol, as node-pg speaks) at `clients`, for `seconds`, in the benchmark's database. */
export async function runPgbench(bench: BenchEnvironment, input: { clients: number; seconds: number }): Promise<PgbenchResult> {
  await sql`create table if not exists pgbench_invoices (id int primary key, status text not null, attempt_count int not null, updated_at timestamptz not null)`.execute(bench.db);
  await sql`create table if not exists pgbench_attempts (id bigserial primary key, invoice_id int not null references pgbench_invoices, status text not null, created_at timestamptz not null default now())`.execute(bench.db);
  await sql`insert into pgbench_invoices select g, 'open', 0, now() from generate_series(1, ${ROWS}::int) g on conflict do nothing`.execute(bench.db);
  await sql`analyze pgbench_invoices`.execute(bench.db);
  const dir = mkdtempSync(join(tmpdir(), "oen-pgbench-"));
  const script = join(dir, "charge.sql");
  writeFileSync(script, SCRIPT);
  const url = new URL(bench.env.DATABASE_URL);
  try {
    const cpu = await startCpuSampler(() => bench.servers.postgresPids(bench.database));
    const { stdout } = await run("pgbench", [
      "-n", "-M", "extended", "-f", script, "-c", String(input.clients), "-j", String(Math.min(input.clients, CORES)), "-T", String(input.seconds),
      "-h", url.hostname, "-p", url.port || "5432", "-U", decodeURIComponent(url.username) || "postgres", bench.database,
    ]);
    const cpuMs = await cpu.stop();
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
    const transactions = /number of transactions actually processed: (\d+)/.exec(stdout);
    if (tps === null || transactions === null) throw new Error(`could not read pgbench's output:\n${stdout}`);
    return { chargesPerSecond: Number(tps[1]), postgresCpuMsPerCharge: cpuMs / Number(transactions[1]), statementsPerCharge: 7 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
