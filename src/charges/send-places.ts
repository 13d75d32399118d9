import { createSemaphore, type Permit } from "../semaphore.ts";

/**
 * The places a worker has at Oen (CHARGE_CONCURRENCY requests at once), and
 * whether a charge may claim before it has one. Claiming ahead keeps the
 * places busy: the next claim commits while the requests are out. It is only
 * safe to rely on while Oen answers quickly: a claim that waits for a place
 * longer than the pre-send check allows is refused as stale, an attempt burnt
 * and left to the order lookup. So once answers grow slow (a typical answer
 * over `slowAnswerMs`), charges take their place first, then claim.
 */
export interface SendPlaces {
  readonly size: number;
  permit(): Permit;
  /** True while recent answers came back within `slowAnswerMs`. */
  readonly claimAhead: boolean;
  /** How long a request took to be answered (or to fail). */
  answered(ms: number): void;
}

// The weight of the latest answer in the typical one (a moving average): an answer several times
// slower than the limit turns it at once, and a few quick ones turn it back.
const LATEST_WEIGHT = 0.3;

export function createSendPlaces(size: number, slowAnswerMs: number): SendPlaces {
  const semaphore = createSemaphore(size);
  let typicalMs: number | undefined;
  return {
    size,
    permit: () => semaphore.permit(),
    get claimAhead() {
      return typicalMs === undefined || typicalMs <= slowAnswerMs;
    },
    answered(ms) {
      typicalMs = typicalMs === undefined ? ms : typicalMs + LATEST_WEIGHT * (ms - typicalMs);
    },
  };
}
