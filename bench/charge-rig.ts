import type { Queue } from "bullmq";
import { sql } from "kysely";
import { loadConfig } from "../src/config.ts";
import { createQueues, type Queues } from "../src/queues/queues.ts";
import { jobIds, type ChargeJob, type RefundJob } from "../src/queues/jobs.ts";
import { sealStoredToken, type SealedToken, type TokenRow } from "../src/vault/token-cipher.ts";
import type { BenchEnvironment } from "./bench-environment.ts";
import { startChild, type BenchChild } from "./child.ts";
import { startCpuSampler } from "./cpu-sampler.ts";
import { costliestStatements, statementsRun, statementTimes } from "./postgres-statements.ts";
import { commandsBetween, redisStats } from "./redis-stats.ts";
import { seedDueInvoices, seedPlanAndCustomer } from "./seed.ts";
import { waitForCompletions } from "./wait-for-completions.ts";

/** The real charge path: a service process (ROLES=workers) charging through a simulator process. */
export interface ChargeRig {
  bench: BenchEnvironment;
  worker: BenchChild;
  simulator: BenchChild;
  queues: Queues;
  /** Seals the simulator's card for one payment_tokens row, as the service stores it. */
  seal: (row: TokenRow) => SealedToken;
  close(): Promise<void>;
}

export interface ChargeRun {
  charges: number;
  seconds: number;
  chargesPerSecond: number;
  /** CPU of the service process, and of Postgres (every process of a private cluster, else the database's backends). */
  workerCpuMsPerCharge: number;
  postgresCpuMsPerCharge: number;
  /** The same by kind of Postgres process (backends, autovacuum, WAL writer, …), per charge. */
  postgresCpuByKind: Record<string, number>;
  /** pg_stat_statements of the database (null without it), and the queries the service process sent. */
  statementsPerCharge: number | null;
  queriesPerCharge: number;
  /** Execution time per call, calls per charge and text of the statements that took longest. */
  costliestStatements: string[];
  /** As Redis counts them (Lua scripts' inner calls included), and as the service process sent them (one per EVALSHA). */
  serverCommandsPerCharge: number;
  clientCommandsPerCharge: number;
  scriptsPerCharge: number;
  topCommands: string[];
  /** Successful charges the simulator recorded for these invoices (exactly `charges` when each was charged once). */
  simulatorCharges: number;
  paid: number;
}

export async function startChargeRig(bench: BenchEnvironment, input: { oenLatencyMs: number; concurrency: number }): Promise<ChargeRig> {
  const simulator = await startChild("./simulator-process.ts", { BENCH_OEN_LATENCY_MS: String(input.oenLatencyMs) });
  let worker: BenchChild;
  try {
    await seedPlanAndCustomer(bench.db);
    worker = await startChild("./service-process.ts", bench.serviceEnv(String(simulator.info.url), { ROLES: "workers", CHARGE_CONCURRENCY: String(input.concurrency) }));
  } catch (error) {
    await simulator.stop();
    throw error;
  }
  const queues = createQueues(bench.redis, bench.env.QUEUE_PREFIX);
  const keyring = loadConfig(bench.serviceEnv(String(simulator.info.url))).tokenKeys;
  const seal = (row: TokenRow) => sealStoredToken(keyring, String(simulator.info.token), row);
  return {
    bench,
    worker,
    simulator,
    queues,
    seal,
    async close() {
      await worker.stop();
      await simulator.stop();
      await queues.close();
    },
  };
}

// Each run seeds subscriptions of its own, after those of the runs before it.
let nextSubscription = 1;

async function enqueueCharges(queue: Queue<ChargeJob | RefundJob>, invoiceIds: string[]): Promise<void> {
  // As enqueueCharge names them (attempt 0), with the queue's own job options.
  for (let i = 0; i < invoiceIds.length; i += 1000) {
    await queue.addBulk(invoiceIds.slice(i, i + 1000).map((invoiceId) => ({ name: "charge", data: { invoiceId }, opts: { jobId: jobIds.charge(invoiceId, 0) } })));
  }
}

/**
 * `count` due invoices (seeded, their charge jobs added while the queue is paused, as a sweep
 * leaves them), then measured from the resume until the service completed every job.
 */
export async function runCharges(rig: ChargeRig, count: number): Promise<ChargeRun> {
  const { bench } = rig;
  const invoiceIds = await seedDueInvoices(bench.db, { first: nextSubscription, count, seal: rig.seal });
  nextSubscription += count;
  await rig.queues.charges.pause();
  await enqueueCharges(rig.queues.charges, invoiceIds);

  const ledgerBefore = (await rig.simulator.probe()).completed;
  const before = await rig.worker.probe();
  const statementsBefore = await statementsRun(bench.admin, bench.database, bench.servers.statements);
  const timesBefore = await statementTimes(bench.admin, bench.database, bench.servers.statements);
  const redisBefore = await redisStats(bench.redis);
  const postgresCpu = await startCpuSampler(() => bench.servers.postgresPids(bench.database));
  const started = performance.now();
  await rig.queues.charges.resume();
  const after = await waitForCompletions(rig.worker, before.completed, count, 120_000 + count * 50);
  const seconds = (performance.now() - started) / 1000;
  const postgresCpuMs = await postgresCpu.stop();
  const postgresCpuByKind = Object.fromEntries(Object.entries(postgresCpu.byKind()).map(([kind, ms]) => [kind, ms / count]));
  const redisAfter = await redisStats(bench.redis);
  const statementsAfter = await statementsRun(bench.admin, bench.database, bench.servers.statements);
  const timesAfter = await statementTimes(bench.admin, bench.database, bench.servers.statements);
  const commands = commandsBetween(redisBefore, redisAfter);

  const paid = Number(
    (await sql<{ n: string }>`select count(*) as n from invoices where id = any(${invoiceIds}) and status = 'paid'`.execute(bench.db)).rows[0]!.n,
  );
  return {
    charges: count,
    seconds,
    chargesPerSecond: count / seconds,
    workerCpuMsPerCharge: (after.cpuMs - before.cpuMs) / count,
    postgresCpuMsPerCharge: postgresCpuMs / count,
    postgresCpuByKind,
    statementsPerCharge: statementsBefore === null || statementsAfter === null ? null : (statementsAfter - statementsBefore) / count,
    queriesPerCharge: (after.io.pgQueries - before.io.pgQueries) / count,
    costliestStatements: costliestStatements(timesBefore, timesAfter, count),
    serverCommandsPerCharge: commands.total / count,
    clientCommandsPerCharge: (after.io.redisCommands - before.io.redisCommands) / count,
    scriptsPerCharge: commands.scripts / count,
    topCommands: commands.top,
    simulatorCharges: (await rig.simulator.probe()).completed - ledgerBefore,
    paid,
  };
}
