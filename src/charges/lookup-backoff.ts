const MAX_LOOKUP_INTERVAL_MS = 5 * 60_000;

/** Wait before the next lookup of an unknown outcome: 2 s, 4 s, 8 s … capped at 5 minutes. */
export function lookupBackoffMs(lookupCount: number): number {
  return Math.min(2_000 * 2 ** Math.min(lookupCount, 20), MAX_LOOKUP_INTERVAL_MS);
}

/** After an ambiguous answer (a charge or a refund), the first lookup waits a little: Oen may still be recording it. */
export const FIRST_LOOKUP_DELAY_MS = 2_000;
