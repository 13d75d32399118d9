import type { FastifyInstance } from "fastify";
import { parseDuration } from "../../billing/duration.ts";
import type { Deps } from "../../deps.ts";
import { runSweep } from "../../renewals/run-sweep.ts";
import type { TestClock } from "../../test-clock.ts";

const advanceBody = {
  type: "object",
  additionalProperties: false,
  required: ["by"],
  properties: { by: { type: "string", pattern: "^[0-9]+(ms|s|m|h|d|w)$", description: "a duration such as 32d or 6h" } },
} as const;

/** Sandbox only (BILLING_TEST_CLOCK=1): moves now forward for every process and sweeps at once. */
export async function testClockRoutes(app: FastifyInstance, options: { deps: Deps; clock: TestClock }) {
  const now = { type: "string", format: "date-time" } as const;
  app.get("/v1/test-clock", { schema: { summary: "The sandbox clock", tags: ["test clock"], response: { 200: { type: "object", properties: { now } } } } }, async () => ({ now: options.clock.now().toISOString() }));
  app.post<{ Body: { by: string } }>(
    "/v1/test-clock/advance",
    {
      schema: {
        summary: "Move the sandbox clock forward and run a renewal sweep",
        tags: ["test clock"],
        body: advanceBody,
        response: { 200: { type: "object", properties: { now, sweep: { type: "object", additionalProperties: true, description: "what the sweep did" } } } },
      },
    },
    async (request) => {
      const now = await options.clock.advance(parseDuration(request.body.by));
      const sweep = await runSweep(options.deps);
      return { now: now.toISOString(), sweep };
    },
  );
}
