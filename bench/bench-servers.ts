// The Postgres and Redis a benchmark measures. By default a private Postgres cluster and a private
// redis-server, started for the run and removed after it: the machine is shared, and Redis'
// commandstats and used_memory, Postgres' CPU and pg_stat_statements (which needs
// shared_preload_libraries, a server restart) mean something only on servers nobody else uses.
// BENCH_SERVERS=external uses DATABASE_URL / REDIS_URL instead (figures then include other clients).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { Redis } from "ioredis";

export interface BenchServers {
  /** "private": started by this run; "external": DATABASE_URL / REDIS_URL. */
  kind: "private" | "external";
  /** URL of the `postgres` database (administration and observation, never measured). */
  adminUrl: string;
  redisUrl: string;
  /** The Postgres processes whose CPU counts for `database`, now (they come and go with connections). */
  postgresPids(database: string): Promise<number[]>;
  /** The redis-server process, when this machine runs it and we know it. */
  redisPid: number | null;
  /** pg_stat_statements is loaded (private servers) and created in the admin database. */
  statements: boolean;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

const which = (binary: string): string | null => {
  try {
    return execFileSync("sh", ["-c", `command -v ${binary}`], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
};

function postgresBinDir(): string | null {
  try {
    const dir = execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
    return readdirSync(dir).includes("initdb") ? dir : null;
  } catch {
    return null;
  }
}

/** Children of a process (from /proc), e.g. the postmaster's backends and auxiliary processes. */
function childrenOf(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Field 4 (ppid) follows the command in parentheses, which may itself hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

async function waitFor(what: string, attempt: () => Promise<unknown>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await attempt();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what} did not start: ${(error as Error).message}`);
      await sleep(100);
    }
  }
}

async function startPrivate(binDir: string, redisServer: string): Promise<BenchServers> {
  const root = mkdtempSync(join(tmpdir(), "oen-bench-"));
  const pgData = join(root, "pg");
  const redisDir = join(root, "redis");
  // initdb and postgres refuse to run as root: run them as the postgres user then.
  const asRoot = userInfo().uid === 0;
  const postgresUid = asRoot ? Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim()) : null;
  const asPostgres = (binary: string, args: string[]): [string, string[]] => (asRoot ? ["runuser", ["-u", "postgres", "--", binary, ...args]] : [binary, args]);
  execFileSync("mkdir", [pgData, redisDir]);
  if (postgresUid !== null) {
    chmodSync(root, 0o755); // the postgres user must reach its data directory
    chownSync(pgData, postgresUid, -1);
  }
  const [initdb, initdbArgs] = asPostgres(join(binDir, "initdb"), ["-D", pgData, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]);
  execFileSync(initdb, initdbArgs, { stdio: ["ignore", "ignore", "pipe"] });

  const pgPort = await freePort();
  const [postgres, postgresArgs] = asPostgres(join(binDir, "postgres"), [
    "-D", pgData, "-p", String(pgPort), "-k", pgData, "-c", "listen_addresses=127.0.0.1",
    "-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track=top", "-c", "pg_stat_statements.max=10000",
    "-c", "pg_stat_statements.track_planning=on",
    "-c", "max_connections=300", "-c", "shared_buffers=256MB", "-c", "max_wal_size=4GB", "-c", "log_min_messages=warning",
  ]);
  const children: ChildProcess[] = [spawn(postgres, postgresArgs, { stdio: "ignore" })];
  const redisPort = await freePort();
  // As docker-compose runs it: AOF (fsync every second), no eviction.
  const redisProcess = spawn(redisServer, ["--port", String(redisPort), "--bind", "127.0.0.1", "--dir", redisDir, "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"], { stdio: "ignore" });
  children.push(redisProcess);

  const adminUrl = `postgres://postgres@127.0.0.1:${pgPort}/postgres`;
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const postmaster = postmasterPid(pgData);
    if (postmaster !== null) process.kill(postmaster, "SIGINT"); // fast shutdown
    redisProcess.kill("SIGTERM");
    await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once("exit", resolve)) : null)));
    rmSync(root, { recursive: true, force: true });
  };
  // Whatever ends this process, the servers go with it; their files once they have stopped
  // (a detached shell waits for that, since nothing can wait in an exit handler).
  process.once("exit", () => {
    if (stopped) return;
    const postmaster = postmasterPid(pgData);
    try {
      if (postmaster !== null) process.kill(postmaster, "SIGQUIT");
    } catch {
      // already gone
    }
    redisProcess.kill("SIGKILL");
    const waitFor = postmaster === null ? "" : `while kill -0 ${postmaster} 2>/dev/null; do sleep 0.2; done; `;
    spawn("sh", ["-c", `${waitFor}rm -rf '${root}'`], { detached: true, stdio: "ignore" }).unref();
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stop().finally(() => process.exit(130)));

  try {
    await waitFor("Postgres", async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query("create extension if not exists pg_stat_statements");
      await client.end();
    });
    await waitFor("Redis", async () => {
      const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await redis.connect();
        await redis.ping();
      } finally {
        redis.disconnect();
      }
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const postmaster = postmasterPid(pgData)!;
  return {
    kind: "private",
    adminUrl,
    redisUrl,
    // Every Postgres process of the private cluster works for the benchmark (backends, WAL writer, checkpointer).
    postgresPids: async () => [postmaster, ...childrenOf(postmaster)],
    redisPid: redisProcess.pid ?? null,
    statements: true,
    stop,
  };
}

function postmasterPid(pgData: string): number | null {
  try {
    return Number(readFileSync(join(pgData, "postmaster.pid"), "utf8").split("\n")[0]);
  } catch {
    return null;
  }
}

function external(): BenchServers {
  const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  return {
    kind: "external",
    adminUrl,
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    // The backends of the benchmark's database, when Postgres runs on this machine (else /proc has nothing of them).
    async postgresPids(database) {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ pid: number }>("select pid from pg_stat_activity where datname = $1", [database]);
        return rows.map((row) => row.pid);
      } finally {
        await client.end();
      }
    },
    redisPid: null,
    statements: false,
    async stop() {},
  };
}

/** Private servers unless BENCH_SERVERS=external or the binaries are missing (then external, said on stderr). */
export async function openBenchServers(): Promise<BenchServers> {
  if (process.env.BENCH_SERVERS === "external") return external();
  const binDir = postgresBinDir();
  const redisServer = which("redis-server");
  if (binDir === null || redisServer === null) {
    console.error(`bench: ${binDir === null ? "initdb" : "redis-server"} not found; measuring on DATABASE_URL / REDIS_URL (shared: figures include other clients)`);
    return external();
  }
  return startPrivate(binDir, redisServer);
}
