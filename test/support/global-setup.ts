import type { TestProject } from "vitest/node";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { migrateToLatest } from "../../src/db/migrate.ts";

// Where the tests' Postgres and Redis come from, in this order: DATABASE_URL /
// REDIS_URL, containers when a container runtime answers (a laptop with
// Docker), else the services on 127.0.0.1 (this machine and CI).
const LOCAL_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const LOCAL_REDIS_URL = "redis://127.0.0.1:6379";
// TEST_TEMPLATE_DATABASE lets two checkouts on one machine run their suites at once.
export const TEMPLATE_DATABASE = process.env.TEST_TEMPLATE_DATABASE ?? "oen_billing_test_template";

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    redisUrl: string;
    templateDatabase: string;
  }
}

async function containerRuntimeAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function services(): Promise<{ databaseUrl: string; redisUrl: string; stop: () => Promise<void> }> {
  const fromEnv = { databaseUrl: process.env.DATABASE_URL, redisUrl: process.env.REDIS_URL };
  if (fromEnv.databaseUrl === undefined && fromEnv.redisUrl === undefined && (await containerRuntimeAnswers())) {
    const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
    const { RedisContainer } = await import("@testcontainers/redis");
    const [postgres, redis] = await Promise.all([
      new PostgreSqlContainer("postgres:17-alpine").start(),
      new RedisContainer("redis:7-alpine").withCommand(["redis-server", "--appendonly", "yes", "--maxmemory-policy", "noeviction"]).start(),
    ]);
    return {
      databaseUrl: postgres.getConnectionUri(),
      redisUrl: redis.getConnectionUrl(),
      stop: async () => {
        await Promise.all([postgres.stop(), redis.stop()]);
      },
    };
  }
  return {
    databaseUrl: fromEnv.databaseUrl ?? LOCAL_DATABASE_URL,
    redisUrl: fromEnv.redisUrl ?? LOCAL_REDIS_URL,
    stop: async () => {},
  };
}

function connect(url: string): Kysely<any> {
  return new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });
}

/** Builds one migrated template database; every test file clones it (fast, isolated). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { databaseUrl, redisUrl, stop } = await services();
  const admin = connect(databaseUrl);
  const templateUrl = new URL(databaseUrl);
  templateUrl.pathname = `/${TEMPLATE_DATABASE}`;
  try {
    await sql`drop database if exists ${sql.id(TEMPLATE_DATABASE)} with (force)`.execute(admin);
    await sql`create database ${sql.id(TEMPLATE_DATABASE)}`.execute(admin);
    const template = connect(templateUrl.toString());
    try {
      await migrateToLatest(template);
    } finally {
      await template.destroy();
    }
  } finally {
    await admin.destroy();
  }
  project.provide("adminDatabaseUrl", databaseUrl);
  project.provide("redisUrl", redisUrl);
  project.provide("templateDatabase", TEMPLATE_DATABASE);
  return stop;
}
