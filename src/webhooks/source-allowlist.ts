import { BlockList, isIP } from "node:net";

const REMEMBERED_ADDRESSES = 10_000;

/** The addresses Oen's webhooks may come from. */
export interface SourceAllowlist {
  /** As configured, one address or CIDR each. */
  entries: string[];
  allows(address: string): boolean;
}

/** Parses `203.0.113.7, 203.0.113.0/24, 2001:db8::/32`; throws naming the first entry that is not one. */
export function parseSourceAllowlist(text: string): SourceAllowlist {
  const list = new BlockList();
  const entries = text.split(",").map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) throw new Error("no address");
  for (const entry of entries) {
    const [address = "", prefix, extra] = entry.split("/");
    const family = isIP(address);
    const bits = family === 6 ? 128 : 32;
    const length = prefix === undefined ? bits : Number(prefix);
    if (family === 0 || extra !== undefined || (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) || length > bits) throw new Error(`"${entry}" is not an address or CIDR`);
    list.addSubnet(address, length, family === 6 ? "ipv6" : "ipv4");
  }
  // Asked twice per webhook (the 403 check, the rate limit), mostly about Oen's few addresses.
  const answers = new Map<string, boolean>();
  return {
    entries,
    allows(address) {
      let allowed = answers.get(address);
      if (allowed === undefined) {
        // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d.
        const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
        const family = isIP(plain);
        allowed = family !== 0 && list.check(plain, family === 6 ? "ipv6" : "ipv4");
        // Bounded: a flood from many addresses only empties it.
        if (answers.size >= REMEMBERED_ADDRESSES) answers.clear();
        answers.set(address, allowed);
      }
      return allowed;
    },
  };
}
