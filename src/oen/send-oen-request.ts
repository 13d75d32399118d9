import type { Logger } from "../log.ts";
import { metrics, type OenResult } from "../metrics/metrics.ts";
import type { OenFetch } from "./keep-alive-fetch.ts";

/** What one HTTP exchange with Oen gave: an answer (JSON or not), or no answer at all. */
export type OenExchange =
  | { kind: "response"; httpStatus: number; json: unknown }
  | { kind: "timeout"; message: string }
  | { kind: "connection"; message: string };

export interface OenTransport {
  apiUrl: string;
  apiToken: string;
  fetch: OenFetch;
  logger: Logger;
}

export interface OenRequest {
  method: "GET" | "POST";
  path: string;
  /** The path as a template without ids (`GET /order/:orderId/transactions`): the latency metric's label. */
  endpoint?: string;
  body?: Record<string, unknown>;
  timeoutMs: number;
}

/** Marks a body that is not JSON (an HTML error page, a plain-text 404, a truncated answer). */
export const NOT_JSON = Symbol("not JSON");

/** Sends one request and never throws: every network failure becomes an exchange kind. */
export async function sendOenRequest(transport: OenTransport, request: OenRequest): Promise<OenExchange> {
  const started = performance.now();
  const headers: Record<string, string> = { authorization: `Bearer ${transport.apiToken}` };
  if (request.body !== undefined) headers["content-type"] = "application/json";
  let exchange: OenExchange;
  // Not AbortSignal.timeout: its timer cannot be cleared, so every answered request would keep a
  // signal and a timer alive for the whole timeout (15,000 of them at 500 charges/s and 30 s).
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new DOMException(`no answer within ${request.timeoutMs} ms`, "TimeoutError")), request.timeoutMs);
  timer.unref();
  try {
    // The timeout covers the body too: Oen may send headers and then stall.
    const response = await transport.fetch(`${transport.apiUrl.replace(/\/+$/, "")}${request.path}`, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      redirect: "manual",
      signal: timeout.signal,
    });
    exchange = { kind: "response", httpStatus: response.status, json: parseJson(await response.text()) };
  } catch (error) {
    exchange = describeFailure(error, request.timeoutMs);
  } finally {
    clearTimeout(timer);
  }
  const ms = performance.now() - started;
  metrics.oenRequest(request.endpoint ?? `${request.method} ${request.path.split("?")[0]}`, resultOf(exchange), ms / 1000);
  transport.logger.debug({ method: request.method, path: request.path, outcome: exchange.kind === "response" ? exchange.httpStatus : exchange.kind, ms: Math.round(ms) }, "oen request");
  return exchange;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

// Built from the error's name and system code only: fetch errors can quote the URL and more.
function describeFailure(error: unknown, timeoutMs: number): OenExchange {
  const name = error instanceof Error ? error.name : "";
  if (name === "TimeoutError") return { kind: "timeout", message: `no answer within ${timeoutMs} ms` };
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === "string" ? cause.code : name || "unknown error";
  return { kind: "connection", message: `connection failed (${code})` };
}

function resultOf(exchange: OenExchange): OenResult {
  if (exchange.kind !== "response") return exchange.kind;
  if (exchange.httpStatus >= 500) return "server_error";
  return exchange.httpStatus >= 400 ? "client_error" : "ok";
}
