import { randomInt } from "node:crypto";

/** A random source in [0, 1): `Math.random`'s shape, so tests can pass their own. */
export type Random = () => number;

/** Mulberry32: tiny and good enough to make fault rolls and ids reproducible from a seed. */
export function createSeededRandom(seed: number = randomInt(2 ** 31)): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
