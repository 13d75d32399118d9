import { Agent, request } from "undici";

const IDLE_CONNECTION_MS = 4_000;

/** The part of fetch the Oen transport uses; globalThis.fetch is one too. */
export type OenFetch = (url: string, init: { method: string; headers: Record<string, string>; body?: string; redirect?: "manual"; signal: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

/**
 * An OenFetch on undici's request with kept connections: a request costs a
 * quarter of the CPU fetch costs, and about two thirds of node:http's
 * (docs/benchmarks.md). Fails as fetch does:
 * with the signal's reason once it aborts (a TimeoutError, the body included),
 * else a TypeError whose `cause` carries the system error code. Redirects are
 * never followed. Idle kept connections do not hold the process open.
 */
export function createKeepAliveFetch(): OenFetch {
  // An idle kept connection is closed by us before a server's keep-alive timeout (5 s at the
  // least common ones) can close it under a charge being written, which would make the charge
  // ambiguous (an order lookup) though it never left. A busy worker reuses them all the time.
  const dispatcher = new Agent({ keepAliveTimeout: IDLE_CONNECTION_MS, keepAliveMaxTimeout: IDLE_CONNECTION_MS });
  return async (url, init) => {
    try {
      const response = await request(url, { method: init.method as "GET" | "POST", headers: init.headers, body: init.body, signal: init.signal, dispatcher });
      const text = await response.body.text();
      return { status: response.statusCode, text: async () => text };
    } catch (error) {
      if (init.signal.aborted) throw init.signal.reason;
      throw new TypeError("fetch failed", { cause: systemError(error) });
    }
  };
}

// undici names a connection closed under a request or its answer by its own code; fetch, and
// what sendOenRequest reports, by the system's.
function systemError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "UND_ERR_SOCKET" ? Object.assign(new Error("the connection closed before the answer ended", { cause: error }), { code: "ECONNRESET" }) : error;
}
