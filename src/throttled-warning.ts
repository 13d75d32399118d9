import type { Logger } from "./log.ts";

/**
 * A warning that can repeat many times a second (every Redis client retrying
 * its connection while Redis is down): logged the first time, then at most
 * once per `intervalMs`, with how many were left out (`repeated`).
 */
export function throttledWarning(logger: Pick<Logger, "warn">, msg: string, intervalMs = 60_000): (fields: Record<string, unknown>) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (fields) => {
    const now = Date.now();
    if (now - last < intervalMs) {
      suppressed++;
      return;
    }
    logger.warn(suppressed === 0 ? fields : { ...fields, repeated: suppressed }, msg);
    last = now;
    suppressed = 0;
  };
}
