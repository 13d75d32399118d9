// Standalone simulator: `npm run simulator`. Configured by environment:
//   SIM_PORT (default 4010), SIM_HOST (default 127.0.0.1; 0.0.0.0 in a container),
//   SIM_MERCHANT_ID (default "sandbox"), SIM_API_TOKEN (default "sim-api-token"),
//   SIM_WEBHOOK_URL, SIM_FAULTS (a JSON fault plan, see fault-plan.ts), SIM_SEED,
//   SIM_WEBHOOK_RETRY_DELAYS_MS (e.g. "2000,4000"), SIM_CHECKOUT_TTL_MS, SIM_HIGH_VALUE_ENABLED=true,
//   SIM_BINDING_AUTHORISATIONS=true (binding a card lists a 1-TWD authorisation).
//   SIM_CARDS_FILE (a JSON file that keeps bound cards across restarts; default: memory only).
//   SIM_LEDGER_FILE (a journal file that keeps charges and refunds across restarts; default: memory only).
import { createLogger } from "../../log.ts";
import { parseFaultPlan } from "./fault-plan.ts";
import { startOenSimulator } from "./start-oen-simulator.ts";

const env = process.env;
const logger = createLogger({ name: "oen-simulator" });

function integers(name: string): number[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const values = raw.split(",").map((part) => Number(part.trim()));
  if (!values.every((value) => Number.isInteger(value) && value >= 0)) {
    throw new Error(`${name} must be a whole number ≥ 0 (or a comma-separated list of them), got "${raw}"`);
  }
  return values;
}

const integer = (name: string, fallback?: number): number | undefined => integers(name)?.[0] ?? fallback;

try {
  const simulator = await startOenSimulator({
    port: integer("SIM_PORT", 4010),
    host: env.SIM_HOST || "127.0.0.1",
    merchantId: env.SIM_MERCHANT_ID || "sandbox",
    apiToken: env.SIM_API_TOKEN || "sim-api-token",
    webhookUrl: env.SIM_WEBHOOK_URL || null,
    faults: env.SIM_FAULTS ? parseFaultPlan(JSON.parse(env.SIM_FAULTS)) : [],
    seed: integer("SIM_SEED"),
    webhookRetryDelaysMs: integers("SIM_WEBHOOK_RETRY_DELAYS_MS"),
    checkoutTtlMs: integer("SIM_CHECKOUT_TTL_MS"),
    highValueEnabled: env.SIM_HIGH_VALUE_ENABLED === "true",
    bindingAuthorisations: env.SIM_BINDING_AUTHORISATIONS === "true",
    cardsFile: env.SIM_CARDS_FILE || null,
    ledgerFile: env.SIM_LEDGER_FILE || null,
    logger,
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void simulator.close().then(() => process.exit(0)));
  }
} catch (error) {
  logger.fatal({ err: error }, "Oen simulator failed to start");
  process.exit(1);
}
