import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { ConfigError, loadConfig, SIMULATOR_TOKEN_PREFIX, type Config } from "./config.ts";
import { createLogger } from "./log.ts";
import { startService } from "./service.ts";
import { startOenSimulator } from "./oen/simulator/index.ts";

/** Every problem on its own line, then exit 1. */
function refuseToStart(error: ConfigError): never {
  for (const problem of error.problems) console.error(`configuration error: ${problem}`);
  process.exit(1);
}

// `npm start`: every role in one process. Without OEN_API_TOKEN (never in
// production) the built-in Oen simulator stands in for Oen's testing API.
let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) refuseToStart(error);
  throw error;
}
const logger = createLogger({ level: config.logLevel, format: config.logFormat });

const simulatorPort = Number(process.env.SIM_PORT ?? 3001);
const simulator =
  config.oen.apiToken === null
    ? await startOenSimulator({
        merchantId: config.oen.merchantId,
        apiToken: SIMULATOR_TOKEN_PREFIX + randomBytes(24).toString("hex"),
        webhookUrl: `${config.publicUrl}/webhooks/oen`,
        port: simulatorPort,
        // The cards bound on it stay chargeable after a restart, and its charges and refunds are
        // still found by lookup, as Oen's are.
        cardsFile: join(process.env.SIM_DATA_DIR ?? ".data", "oen-simulator-cards.json"),
        ledgerFile: join(process.env.SIM_DATA_DIR ?? ".data", "oen-simulator-ledger.jsonl"),
        einvoice: config.oen.einvoice,
        logger: logger.child({ component: "oen-simulator" }),
      }).catch((error: unknown) => {
        const inUse = (error as { code?: unknown }).code === "EADDRINUSE";
        logger.fatal(`start-up failed: the built-in Oen simulator could not start: ${inUse ? `port ${simulatorPort} is already in use (SIM_PORT)` : (error as Error).message}`);
        process.exit(1);
      })
    : null;
if (simulator !== null) {
  config = { ...config, oen: { ...config.oen, apiToken: simulator.apiToken, apiUrl: simulator.url, hostedUrl: simulator.hostedUrl } };
  logger.warn({ simulator: simulator.url }, "OEN_API_TOKEN is not set: running against the built-in Oen simulator (test card 4242 4242 4242 4242)");
}

let service: Awaited<ReturnType<typeof startService>>;
try {
  service = await startService({ config, logger });
} catch (error) {
  await simulator?.close();
  // A keyring that cannot open the stored tokens, one line per missing key.
  if (error instanceof ConfigError) refuseToStart(error);
  // One log line a newcomer can act on, e.g. "connect ECONNREFUSED 127.0.0.1:5432" while Postgres is not running.
  logger.fatal(`start-up failed: ${startupFailure(error, config)}`);
  process.exit(1);
}
logger.info({ roles: config.roles, adminUi: service.url === null ? null : `${service.url}/admin/queues` }, "oen-billing started");

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    await service.close();
    await simulator?.close();
    process.exit(0);
  });
}

/** What stopped the start, said so that the fix is clear. */
function startupFailure(error: unknown, settings: Config): string {
  const code = (error as { code?: unknown }).code;
  if (code === "EADDRINUSE") return `port ${settings.port} on ${settings.host} is already in use (PORT): stop what listens there, or choose another PORT`;
  if (code === "EACCES") return `port ${settings.port} on ${settings.host} may not be opened by this user (PORT): choose one above 1023`;
  const cause = error instanceof AggregateError ? error.errors.map((e: Error) => e.message).join("; ") : (error as Error).message;
  return `${cause} (is PostgreSQL running at DATABASE_URL?)`;
}
