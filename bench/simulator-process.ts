// A benchmark's child: the Oen simulator, in its own process so that its CPU is not the
// worker's. BENCH_OEN_LATENCY_MS delays every charge answer. Binds one card on start and
// gives its token (every seeded subscription is charged on it).
import { createOenClient } from "../src/oen/client.ts";
import { silentLogger } from "../src/log.ts";
import { startOenSimulator } from "../src/oen/simulator/index.ts";
import { serveProbes } from "./probe.ts";
import { SIMULATOR_CREDENTIALS } from "./simulator-credentials.ts";

const { merchantId, apiToken } = SIMULATOR_CREDENTIALS;

const latencyMs = Number(process.env.BENCH_OEN_LATENCY_MS ?? 0);
const simulator = await startOenSimulator({
  merchantId,
  apiToken,
  highValueEnabled: true,
  faults: latencyMs > 0 ? [{ on: "charge", kind: "latency", latencyMs }] : [],
});
const oen = createOenClient({ apiUrl: simulator.url, apiToken, merchantId, timeoutMs: 10_000, logger: silentLogger });
const { id } = await oen.createCheckoutToken({ successUrl: null, failureUrl: null, customId: "bench" });
const bound = simulator.bindCard(id, { cardNumber: "4242424242424242", expiry: "12/39", cvc: "123", email: "bench@example.com" });
if (bound.kind !== "bound") throw new Error(`binding the benchmark card failed: ${bound.kind}`);
serveProbes({ url: simulator.url, token: bound.token }, () => ({ io: { pgQueries: 0, redisCommands: 0 }, completed: simulator.ledger.successfulCharges().length }), () => simulator.close());
