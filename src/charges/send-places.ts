import { createSemaphore, type Permit } from "../semaphore.ts";

/**
 * The places a worker has at Oen (CHARGE_CONCURRENCY requests at once), and
 * whether a charge may claim before it has one. Claiming ahead keeps the
 * places busy: the next claims commit while the requests are out, many at a
 * time in one statement. A claim made ahead waits in line for its place, so
 * charges claim ahead only while the line is short: a place's worth of charges
 * (an answer's wait), or more when answers are so quick that a longer line
 * still clears within LINE_CLEARS_MS. And only while Oen answers quickly: a
 * claim that waits for its place longer than the pre-send check allows is
 * refused as stale, an attempt burnt and left to the order lookup. So once
 * answers grow slow (a typical answer over `slowAnswerMs`), charges take their
 * place first, then claim.
 */
/** A charge's place at Oen, and its turn to claim ahead. */
export interface SendPlace extends Permit {
  /** Resolves once the line for a place is short enough to join (at once when it is, and nobody waits before it). */
  roomAhead(): Promise<void>;
}

export interface SendPlaces {
  readonly size: number;
  permit(): SendPlace;
  /** True while recent answers came back within `slowAnswerMs`. */
  readonly claimAhead: boolean;
  /** How long a request took to be answered (or to fail). */
  answered(ms: number): void;
}

// The weight of the latest answer in the typical one (a moving average): an answer several times
// slower than the limit turns it at once, and a few quick ones turn it back.
const LATEST_WEIGHT = 0.3;

// A line that clears this fast may be longer than a place's worth: when Oen answers in a few ms, a
// charge spends its time in the claim's and the settle's statements, and the longer line lets
// more claims share each.
const LINE_CLEARS_MS = 100;

export function createSendPlaces(size: number, slowAnswerMs: number): SendPlaces {
  const semaphore = createSemaphore(size);
  let typicalMs: number | undefined;
  const roomWaiters: Array<() => void> = [];
  // Charges the waiters' line let in that are claiming, not yet in line for their place: counted
  // as in line, or the line would let every waiter in at once.
  let letInClaiming = 0;
  const longestLine = () => size * Math.max(1, LINE_CLEARS_MS / (typicalMs ?? LINE_CLEARS_MS));
  const letIn = () => {
    while (roomWaiters.length > 0 && semaphore.waiting + letInClaiming < longestLine()) roomWaiters.shift()!();
  };
  return {
    size,
    permit() {
      const permit = semaphore.permit();
      let claiming = false;
      const claimed = () => {
        if (claiming) letInClaiming -= 1;
        claiming = false;
      };
      return {
        roomAhead() {
          if (roomWaiters.length === 0 && semaphore.waiting < longestLine()) return Promise.resolve();
          return new Promise<void>((resolve) =>
            roomWaiters.push(() => {
              claiming = true;
              letInClaiming += 1;
              resolve();
            }),
          );
        },
        take() {
          claimed();
          const taking = permit.take();
          taking.then(letIn, letIn);
          return taking;
        },
        release() {
          claimed();
          permit.release();
          letIn();
        },
      };
    },
    get claimAhead() {
      return typicalMs === undefined || typicalMs <= slowAnswerMs;
    },
    answered(ms) {
      typicalMs = typicalMs === undefined ? ms : typicalMs + LATEST_WEIGHT * (ms - typicalMs);
    },
  };
}
