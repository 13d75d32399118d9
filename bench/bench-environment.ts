import { randomBytes } from "node:crypto";
import pg from "pg";
import { Redis } from "ioredis";
import { createDb, type Db } from "../src/db/connect.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import { openBenchServers, type BenchServers } from "./bench-servers.ts";
import { SIMULATOR_CREDENTIALS } from "./simulator-credentials.ts";

export interface BenchEnvironment {
  servers: BenchServers;
  database: string;
  /** Settings that put the service on the benchmark's own database and queue prefix. */
  env: { DATABASE_URL: string; REDIS_URL: string; QUEUE_PREFIX: string };
  /** The benchmark's database, migrated (for seeding and checking, outside measured windows). */
  db: Db;
  /** The `postgres` database: observation queries that do not count as the benchmark's. */
  admin: pg.Pool;
  /** A Redis connection for INFO and checks. */
  redis: Redis;
  /** The environment of a service process on an Oen simulator at `oenUrl`. */
  serviceEnv(oenUrl: string, extra?: Record<string, string>): Record<string, string>;
  /** Drops the database and the queue keys, stops private servers. */
  close(): Promise<void>;
}

/** The servers (bench-servers.ts), a fresh migrated database on them, and a fresh queue prefix. */
export async function openBenchEnvironment(database: string): Promise<BenchEnvironment> {
  const servers = await openBenchServers();
  const admin = new pg.Pool({ connectionString: servers.adminUrl, max: 2 });
  // Copying a database ends the connections to it; an idle client that loses its connection must not end the run.
  admin.on("error", () => {});
  await admin.query(`drop database if exists "${database}" with (force)`);
  await admin.query(`create database "${database}"`);
  const url = new URL(servers.adminUrl);
  url.pathname = `/${database}`;
  const db = createDb(url.toString());
  await migrateToLatest(db);
  const redis = new Redis(servers.redisUrl);
  const prefix = `{bench-${randomBytes(4).toString("hex")}}`;
  const env = { DATABASE_URL: url.toString(), REDIS_URL: servers.redisUrl, QUEUE_PREFIX: prefix };
  return {
    servers,
    database,
    env,
    db,
    admin,
    redis,
    serviceEnv: (oenUrl, extra = {}) => ({
      ...env,
      PORT: "0",
      HOST: "127.0.0.1",
      OEN_MERCHANT_ID: SIMULATOR_CREDENTIALS.merchantId,
      OEN_API_TOKEN: SIMULATOR_CREDENTIALS.apiToken,
      OEN_API_URL: oenUrl,
      // The service's default is 50 charges/s (README, "Charge rate and concurrency"); the benchmark measures the service, not that limit.
      OEN_CHARGE_RATE: "10000",
      OEN_LOOKUP_RATE: "10000",
      RENEWAL_SWEEP_INTERVAL: "1h",
      RENEWAL_JITTER: "0s",
      LOG_LEVEL: "silent",
      ...extra,
    }),
    async close() {
      await db.destroy();
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== "0");
      redis.disconnect();
      await admin.query(`drop database if exists "${database}" with (force)`);
      await admin.end();
      await servers.stop();
    },
  };
}
