/**
 * The orderId sent to Oen for one attempt on one invoice. Unique per attempt
 * (Oen does not deduplicate orders), derivable from stored facts, and what we
 * look the attempt up by when its outcome is unknown.
 */
export function orderIdFor(invoiceId: string, attemptNo: number): string {
  if (!Number.isInteger(attemptNo) || attemptNo < 1) throw new RangeError(`attempt number must be a positive integer (got ${attemptNo})`);
  return `${invoiceId}-${attemptNo}`;
}
