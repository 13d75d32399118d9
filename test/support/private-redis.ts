import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { freePort } from "./free-port.ts";
import { testRedisUrl } from "./test-services.ts";

export interface PrivateRedis {
  url: string;
  /** Wipes everything this service has in Redis. */
  flush(): Promise<void>;
  /** What `flush` does: FLUSHALL on a private server, FLUSHDB where none could be started. */
  flushCommand: "FLUSHALL" | "FLUSHDB";
  close(): Promise<void>;
}

/**
 * A Redis this test file may wipe without touching the files running beside
 * it: its own redis-server where the binary exists (this machine, CI), else a
 * database index of the shared one (FLUSHDB, which is all the service uses;
 * no memory limit there).
 */
export async function startPrivateRedis(options: { maxmemory?: string } = {}): Promise<PrivateRedis> {
  const hasBinary = spawnSync("redis-server", ["--version"]).status === 0;
  // A small Redis that refuses writes once full (noeviction), as production's should be configured.
  const limit = options.maxmemory === undefined ? [] : ["--maxmemory", options.maxmemory, "--maxmemory-policy", "noeviction"];
  let child: ChildProcess | null = null;
  let url: string;
  if (hasBinary) {
    const port = await freePort();
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...limit], { stdio: "ignore" });
    url = `redis://127.0.0.1:${port}`;
  } else {
    const shared = new URL(testRedisUrl());
    shared.pathname = "/13";
    url = shared.toString();
  }
  const admin = new Redis(url, { maxRetriesPerRequest: null });
  admin.on("error", () => {}); // refused until the server listens; ioredis retries
  await admin.ping();
  return {
    url,
    flushCommand: hasBinary ? "FLUSHALL" : "FLUSHDB",
    flush: async () => {
      await (hasBinary ? admin.flushall() : admin.flushdb());
    },
    async close() {
      admin.disconnect();
      child?.kill("SIGKILL");
    },
  };
}
