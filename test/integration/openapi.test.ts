import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/harness.ts";

const REDOCLY = fileURLToPath(new URL("../../node_modules/@redocly/cli/bin/cli.js", import.meta.url));

interface Problem {
  ruleId: string;
  severity: "error" | "warn";
  message: string;
  location: Array<{ pointer: string }>;
}

/** Runs `redocly lint` on a document; its problems (errors and warnings). */
async function lint(document: object): Promise<Problem[]> {
  const folder = await mkdtemp(join(tmpdir(), "openapi-"));
  const file = join(folder, "openapi.json");
  try {
    await writeFile(file, JSON.stringify(document, null, 2));
    // No network here: no telemetry, no update check.
    const env = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" };
    const run = promisify(execFile)(process.execPath, [REDOCLY, "lint", file, "--format", "json", "--max-problems", "1000"], { env, cwd: folder, timeout: 60_000 });
    // Exit 1 when errors are found: its report is still on stdout.
    const { stdout } = await run.catch((error: { stdout?: string }) => {
      if (error.stdout === undefined || error.stdout === "") throw error;
      return { stdout: error.stdout };
    });
    return (JSON.parse(stdout) as { problems: Problem[] }).problems;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

describe("OpenAPI", () => {
  let h: Harness;
  let spec: Record<string, any>;
  beforeAll(async () => {
    // The test clock adds its routes: they are published too.
    h = await startHarness({ env: { BILLING_TEST_CLOCK: "1" } });
    spec = (await h.service.app!.inject({ method: "GET", url: "/openapi.json" })).json();
  });
  afterAll(async () => {
    await h?.close();
  });

  const operations = () => Object.entries(spec.paths as Record<string, Record<string, any>>).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));

  it("passes redocly lint (recommended rules) with no error", async () => {
    const problems = await lint(spec);
    const errors = problems.filter((p) => p.severity === "error").map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
    expect(errors).toEqual([]);
  });

  it("is OpenAPI 3.1 with servers, and documents the health and metrics routes", () => {
    expect(spec.openapi).toBe("3.1.0");
    expect(spec.servers).toEqual([{ url: h.config.publicUrl, description: expect.any(String) }]);
    for (const path of ["/healthz", "/readyz", "/metrics", "/webhooks/oen", "/v1/events", "/v1/events/{id}/redeliver"]) expect(Object.keys(spec.paths)).toContain(path);
  });

  it("gives every operation a unique operationId and documents its 401 when it needs a credential", () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === "string" && /^[A-Za-z0-9]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, op } of operations()) {
      const needsKey = path.startsWith("/v1/") || path === "/metrics";
      expect(op.responses["401"] !== undefined, `${path} 401`).toBe(needsKey);
      if (!needsKey) expect(op.security, path).toEqual([]);
    }
  });

  it("serves a reference page at /docs listing every operation, with no script", async () => {
    const page = await h.service.app!.inject({ method: "GET", url: "/docs" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.body).not.toMatch(/<script/i);
    for (const { op } of operations()) expect(page.body).toContain(`id="${op.operationId}"`);
  });
});
