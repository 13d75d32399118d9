import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
const ID_BYTES = 20;

// Random bytes drawn for 256 ids at a time: a call to the CSPRNG for each id cost the charge
// worker 0.02 ms a charge (three ids each; CPU profile in docs/benchmarks.md).
const POOL_BYTES = ID_BYTES * 256;
let pool = Buffer.alloc(0);
let offset = 0;

/** A random, URL- and job-id-safe id such as `sub_k3j9...` (20 base36 chars, ~103 bits). */
export function newId(prefix: string): string {
  if (offset + ID_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  let body = "";
  for (let i = offset; i < offset + ID_BYTES; i++) body += ALPHABET[pool[i]! % 36];
  offset += ID_BYTES;
  return `${prefix}_${body}`;
}
