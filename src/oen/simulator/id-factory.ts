import type { Random } from "./random.ts";
import { taipeiDate } from "./taipei-date.ts";

const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const UPPER_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Ids shaped like Oen's (api/index.md "ID"). */
export interface IdFactory {
  /** 27 alphanumeric chars: checkout ids, transaction ids, card tokens. */
  internalId(): string;
  /** "P" + Taipei date + 8 chars, 17 in all, e.g. P20260928AB12CD34. */
  transactionHid(at: Date): string;
  /** "C" + Taipei date + 8 chars: payments not made through the API (an adjustment, a shop order). */
  otherPaymentId(at: Date): string;
  /** Six digits, like an acquirer's authorization code. */
  authCode(): string;
}

export function createIdFactory(random: Random): IdFactory {
  const pick = (alphabet: string, length: number): string => {
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
    return out;
  };
  return {
    internalId: () => pick(ALPHANUMERIC, 27),
    transactionHid: (at) => `P${compactDate(at)}${pick(UPPER_ALPHANUMERIC, 8)}`,
    otherPaymentId: (at) => `C${compactDate(at)}${pick(UPPER_ALPHANUMERIC, 8)}`,
    authCode: () => pick("0123456789", 6),
  };
}

function compactDate(at: Date): string {
  const { year, month, day } = taipeiDate(at);
  return `${year}${String(month).padStart(2, "0")}${String(day).padStart(2, "0")}`;
}
