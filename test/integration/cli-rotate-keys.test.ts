import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { startService, type Service } from "../../src/service.ts";
import { parseKeyring } from "../../src/vault/keyring.ts";
import { revealToken } from "../../src/vault/token-vault.ts";
import { API_KEY, eventually, samplePlan, startHarness, subscribeWithCard, type Harness } from "../support/harness.ts";
import { runCli } from "../support/run-cli.ts";

// `billing rotate-keys` while the service charges: every card token ends under the new key,
// charges never fail meanwhile, a run killed midway resumes, and the old key can then leave.
const OLD = `old:${Buffer.alloc(32, 7).toString("base64")}`;
const NEW = `new:${Buffer.alloc(32, 9).toString("base64")}`;
const SUBSCRIPTIONS = 24;

let h: Harness;
let service: Service | undefined;
const db = () => h.database.db;

async function restart(keys: string): Promise<Service> {
  await service?.close();
  service = await startService({ config: loadConfig({ ...h.env, TOKEN_ENCRYPTION_KEYS: keys }), logger: silentLogger });
  return service;
}
async function advanceMonth(): Promise<void> {
  const advanced = await service!.app!.inject({ method: "POST", url: "/v1/test-clock/advance", headers: { authorization: `Bearer ${API_KEY}` }, payload: { by: "32d" } });
  expect(advanced.statusCode, advanced.body).toBe(200);
}
async function paidCycles(cycle: number): Promise<number> {
  const rows = await db().selectFrom("invoices").select("id").where("cycle", "=", cycle).where("status", "=", "paid").execute();
  return rows.length;
}
const keyCounts = async () =>
  Object.fromEntries((await db().selectFrom("payment_tokens").select(["key_id", db().fn.countAll<string>().as("n")]).groupBy("key_id").execute()).map((r) => [r.key_id, Number(r.n)]));

beforeAll(async () => {
  h = await startHarness({ env: { TOKEN_ENCRYPTION_KEYS: OLD, BILLING_TEST_CLOCK: "1", RENEWAL_SWEEP_INTERVAL: "1h" } });
  service = h.service;
  await h.api("PUT", "/v1/plans/monthly", samplePlan);
  for (let i = 0; i < SUBSCRIPTIONS; i++) await subscribeWithCard(h, "monthly", `cus_${i}`);
  await eventually(async () => (await paidCycles(1)) === SUBSCRIPTIONS, 60_000, "every first charge");
});
afterAll(async () => {
  // The harness closes its own service (closed already by the first restart: closing again is harmless).
  if (service !== h?.service) await service?.close();
  await h?.close();
});

describe("billing rotate-keys", () => {
  it("re-encrypts every token under the first key while charges run, resuming after a kill", async () => {
    expect(await keyCounts()).toEqual({ old: SUBSCRIPTIONS });
    // Step one of a rotation: the new key first (it seals), the old one still there (it opens).
    await restart(`${NEW},${OLD}`);
    const env = { ...h.env, TOKEN_ENCRYPTION_KEYS: `${NEW},${OLD}` };

    // A first run, killed after a few batches.
    let child: ChildProcess | undefined;
    const killed = runCli(["rotate-keys", "--batch-size", "2", "--pause-ms", "150"], env, {
      onSpawn: (spawned) => (child = spawned),
      onStderr: (stderr) => {
        if (/rotate-keys: 6\/24 tokens/.test(stderr)) child?.kill("SIGKILL");
      },
    });
    const first = await killed;
    expect(first.signal, first.stderr).toBe("SIGKILL");
    expect(first.stderr).toContain("rotate-keys: re-encrypting under key new, 2 at a time");
    const halfway = await keyCounts();
    expect(halfway.new).toBeGreaterThanOrEqual(6);
    expect(halfway.old).toBeGreaterThan(0);

    // The run again, and once it is under way the renewals of the month beside it.
    let started!: () => void;
    const underWay = new Promise<void>((resolve) => (started = resolve));
    const again = runCli(["--json", "rotate-keys", "--batch-size", "1", "--pause-ms", "100"], env, { onStderr: (stderr) => /rotate-keys: 1\//.test(stderr) && started() });
    await underWay;
    await advanceMonth();
    const second = await again;
    expect(second.code, second.stderr).toBe(0);
    expect(second.json).toEqual({ keyId: "new", rotated: halfway.old, total: halfway.old, remaining: 0, webhooksUnderOtherKeys: 0, done: true });
    expect(second.stderr).toMatch(new RegExp(`rotate-keys: ${halfway.old}/${halfway.old} tokens \\(100%\\)`));
    await eventually(async () => (await paidCycles(2)) === SUBSCRIPTIONS, 60_000, "every renewal of the month");
    expect(await keyCounts()).toEqual({ new: SUBSCRIPTIONS });
    const attempts = await db().selectFrom("charge_attempts").select(["status", "created_at"]).execute();
    expect(attempts.filter((a) => a.status !== "succeeded")).toEqual([]);
    // They did overlap: renewals were charged before the rotation's last decryption.
    const lastRotated = await db().selectFrom("audit_log").select(db().fn.max("at").as("at")).where("actor", "=", "cli rotate-keys").where("action", "=", "card_token.decrypt").executeTakeFirstOrThrow();
    const renewals = await db().selectFrom("charge_attempts").innerJoin("invoices", "invoices.id", "charge_attempts.invoice_id").select("charge_attempts.created_at").where("invoices.cycle", "=", 2).execute();
    expect(renewals.some((r) => r.created_at < new Date(lastRotated.at as Date))).toBe(true);

    // Every token opens with the new key alone, and every decryption of the rotation is audited.
    const newOnly = parseKeyring(NEW);
    for (const token of await db().selectFrom("payment_tokens").selectAll().execute()) {
      expect(await revealToken(db(), newOnly, token, { actor: "test", reason: "prove the rotation" })).toMatch(/^[0-9A-Za-z]{27}$/);
    }
    const audit = await db().selectFrom("audit_log").select(["action", "actor"]).where("actor", "=", "cli rotate-keys").execute();
    expect(audit.filter((a) => a.action === "card_token.decrypt")).toHaveLength(SUBSCRIPTIONS);
    expect(audit.filter((a) => a.action === "card_token.rotate_keys").length).toBeGreaterThanOrEqual(1);
  });

  it("once done it has nothing left to do; the old key leaves and the charges go on", async () => {
    const idle = await runCli(["rotate-keys"], { ...h.env, TOKEN_ENCRYPTION_KEYS: `${NEW},${OLD}` });
    expect(idle.code, idle.stderr).toBe(0);
    expect(idle.stdout).toContain("every token is sealed under new: the other keys may now leave TOKEN_ENCRYPTION_KEYS");
    // The service refuses to start with a keyring that lacks a key a stored token needs: it starts.
    await restart(NEW);
    await advanceMonth();
    await eventually(async () => (await paidCycles(3)) === SUBSCRIPTIONS, 60_000, "every renewal after the old key left");
  });
});
