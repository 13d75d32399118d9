const TAIPEI_OFFSET_MS = 8 * 3600_000; // Taiwan has had no daylight saving time since 1979

/** The calendar date in Taipei, where Oen dates transaction numbers and cards expire. */
export function taipeiDate(at: Date): { year: number; month: number; day: number } {
  const shifted = new Date(at.getTime() + TAIPEI_OFFSET_MS);
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}
