import { loadConfig } from "../config.ts";
import { createDb } from "./connect.ts";
import { migrateToLatest } from "./migrate.ts";

const config = loadConfig();
const db = createDb(config.databaseUrl, { max: 1 });
try {
  const applied = await migrateToLatest(db);
  console.log(applied.length === 0 ? "migrations: up to date" : `migrations applied: ${applied.join(", ")}`);
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
