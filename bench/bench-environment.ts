import { randomBytes } from "node:crypto";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { Redis } from "ioredis";

export interface BenchEnvironment {
  /** Settings that put the service on the benchmark's own database and queue prefix. */
  env: { DATABASE_URL: string; REDIS_URL: string; QUEUE_PREFIX: string };
  /** Drops the database and the queue keys. */
  cleanup(): Promise<void>;
}

/** A fresh database and queue prefix on DATABASE_URL / REDIS_URL or the local services. */
export async function openBenchEnvironment(database: string): Promise<BenchEnvironment> {
  const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const admin = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: adminUrl, max: 1 }) }) });
  await sql`drop database if exists ${sql.id(database)} with (force)`.execute(admin);
  await sql`create database ${sql.id(database)}`.execute(admin);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const prefix = `{bench-${randomBytes(4).toString("hex")}}`;
  return {
    env: { DATABASE_URL: url.toString(), REDIS_URL: redisUrl, QUEUE_PREFIX: prefix },
    async cleanup() {
      const redis = new Redis(redisUrl);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await sql`drop database if exists ${sql.id(database)} with (force)`.execute(admin);
      await admin.destroy();
    },
  };
}
