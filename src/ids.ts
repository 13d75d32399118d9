import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** A random, URL- and job-id-safe id such as `sub_k3j9...` (20 base36 chars, ~103 bits). */
export function newId(prefix: string): string {
  const bytes = randomBytes(20);
  let body = "";
  for (const byte of bytes) body += ALPHABET[byte % 36];
  return `${prefix}_${body}`;
}
