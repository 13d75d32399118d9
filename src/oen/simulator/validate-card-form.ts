import { taipeiDate } from "./taipei-date.ts";

/** The fields of the hosted binding page. */
export interface CardForm {
  cardNumber: string;
  /** MM/YY (MM/YYYY accepted). */
  expiry: string;
  cvc: string;
  email: string;
  cardholderName?: string;
}

export type CardFormCheck = { ok: true; cardNumber: string } | { ok: false; errors: string[] };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The checks Oen's page makes before it submits (messages shown on the page). */
export function validateCardForm(form: CardForm, now: Date): CardFormCheck {
  const errors: string[] = [];
  const cardNumber = form.cardNumber.replace(/[\s-]/g, "");
  if (!/^\d{13,19}$/.test(cardNumber)) errors.push("卡號格式錯誤 (invalid card number)");
  const expiry = /^(\d{2})\s*\/\s*(\d{2}|\d{4})$/.exec(form.expiry.trim());
  const month = Number(expiry?.[1]);
  const year = expiry?.[2] === undefined ? NaN : Number(expiry[2].length === 2 ? `20${expiry[2]}` : expiry[2]);
  const today = taipeiDate(now);
  if (!expiry || month < 1 || month > 12) errors.push("有效期限格式為 MM/YY (expiry must be MM/YY)");
  else if (year < today.year || (year === today.year && month < today.month)) errors.push("卡片已過期 (card expired)");
  if (!/^\d{3,4}$/.test(form.cvc.trim())) errors.push("安全碼錯誤 (invalid CVC)");
  if (!EMAIL.test(form.email.trim())) errors.push("請填寫 Email (email required)");
  return errors.length === 0 ? { ok: true, cardNumber } : { ok: false, errors };
}
