/** Failed authentications per client address, in this process only (each replica counts its own). */
export interface AuthFailureCounter {
  /** How long `address` must still wait before it may try again; 0 when it may. */
  blockedForMs(address: string, now: number): number;
  recordFailure(address: string, now: number): void;
}

// Bounds memory when failures come from very many addresses: the oldest entries go first.
const MAX_ADDRESSES = 100_000;

/** After `limit` failures within `windowMs`, an address is blocked for `windowMs` from its last counted failure. */
export function createAuthFailureCounter(options: { limit: number; windowMs: number; maxAddresses?: number }): AuthFailureCounter {
  const maxAddresses = options.maxAddresses ?? MAX_ADDRESSES;
  const entries = new Map<string, { failures: number; resetAt: number }>();
  return {
    blockedForMs(address, now) {
      const entry = entries.get(address);
      if (entry === undefined) return 0;
      if (now >= entry.resetAt) {
        entries.delete(address);
        return 0;
      }
      return entry.failures >= options.limit ? entry.resetAt - now : 0;
    },
    recordFailure(address, now) {
      const entry = entries.get(address);
      const failures = entry === undefined || now >= entry.resetAt ? 1 : entry.failures + 1;
      const resetAt = entry === undefined || now >= entry.resetAt || failures >= options.limit ? now + options.windowMs : entry.resetAt;
      // Re-inserted, so that the Map's order is the order of the latest failures.
      entries.delete(address);
      entries.set(address, { failures, resetAt });
      for (const oldest of entries.keys()) {
        if (entries.size <= maxAddresses) break;
        entries.delete(oldest);
      }
    },
  };
}
