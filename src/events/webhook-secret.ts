// Standard Webhooks secrets are "whsec_" and the base64 of 24 to 64 random bytes.
const FORMAT = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

/** Whether `secret` is a signing secret in the Standard Webhooks format. */
export function isWebhookSecret(secret: string): boolean {
  const base64 = FORMAT.exec(secret)?.[1];
  if (base64 === undefined || base64.length % 4 !== 0) return false;
  const bytes = Buffer.from(base64, "base64").length;
  return bytes >= 24 && bytes <= 64;
}
