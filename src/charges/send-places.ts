import { createSemaphore, type Permit } from "../semaphore.ts";

/** A charge's place at Oen, and its turn to claim ahead. */
export interface SendPlace extends Permit {
  /** Resolves once the line for a place is short enough to join (at once when it is, and nobody waits before it); the charge then counts as in line until it takes its place or gives it up. */
  roomAhead(): Promise<void>;
}

/**
 * The places a worker has at Oen (CHARGE_CONCURRENCY requests at once), and
 * whether a charge may claim before it has one. Claiming ahead keeps the
 * places busy: the next claims commit while the requests are out, many at a
 * time in one statement. A claim made ahead waits in line for its place, so
 * charges claim ahead only while the line (the charges let in that are still
 * claiming included) is short: a place's worth of charges (an answer's wait),
 * or up to LONGEST_LINE_PLACES' worth when answers are so quick that the
 * longer line still clears within LINE_CLEARS_MS. And only while Oen answers
 * quickly: a claim that waits for its place longer than the pre-send check
 * allows is refused as stale, an attempt burnt and left to the order lookup.
 * So once answers grow slow (a typical answer over `slowAnswerMs`), charges
 * take their place first, then claim.
 *
 * `jobsPerPlace` is how many charge jobs the worker should run for each place:
 * while the requests are out, the next jobs claim and the answered ones settle,
 * so a place is taken again the moment it is free instead of after a settle, a
 * round trip to Redis and the next claim's commit. While Oen answers within
 * QUICK_ANSWER_MS a charge spends most of its time in those statements, and
 * more jobs put more claims in each; when answers take longer, the extra jobs
 * would only wait for room in the line.
 */
export interface SendPlaces {
  readonly size: number;
  permit(): SendPlace;
  /** True while recent answers came back within `slowAnswerMs`. */
  readonly claimAhead: boolean;
  /** FEWEST_JOBS_PER_PLACE, or MOST_JOBS_PER_PLACE while recent answers came back within QUICK_ANSWER_MS. */
  readonly jobsPerPlace: number;
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
// And never more than this many places' worth, however quick: if Oen slows down at once, the
// claims already in line wait an answer each (and those past the pre-send check's limit are
// refused as stale).
export const LONGEST_LINE_PLACES = 3;

// At 10 places and Oen answering at once, two jobs a place ran 500 charges/s at 1.56–1.68 ms of
// CPU each, four 770/s at 1.34–1.43 ms, eight 740–990/s at 1.22–1.62 ms (against four's
// 1.42–1.54 in the same hour); with Oen at 300 ms and 50 places, eight kept 0.968–0.970 of the
// places busy, two 0.980 (docs/benchmarks.md).
export const FEWEST_JOBS_PER_PLACE = 2;
export const MOST_JOBS_PER_PLACE = 8;
const QUICK_ANSWER_MS = LINE_CLEARS_MS / 2;

export function createSendPlaces(size: number, slowAnswerMs: number): SendPlaces {
  const semaphore = createSemaphore(size);
  let typicalMs: number | undefined;
  const roomWaiters: Array<() => void> = [];
  // Charges let in that are still claiming, not yet in line for their place: they count as in
  // line, or every charge that comes at once would be let in.
  let letInClaiming = 0;
  const longestLine = () => size * Math.min(LONGEST_LINE_PLACES, Math.max(1, LINE_CLEARS_MS / (typicalMs ?? LINE_CLEARS_MS)));
  const hasRoom = () => semaphore.waiting + letInClaiming < longestLine();
  const letIn = () => {
    while (roomWaiters.length > 0 && hasRoom()) roomWaiters.shift()!();
  };
  return {
    size,
    permit() {
      const permit = semaphore.permit();
      let claiming = false;
      const enter = () => {
        claiming = true;
        letInClaiming += 1;
      };
      const claimed = () => {
        if (claiming) letInClaiming -= 1;
        claiming = false;
      };
      return {
        roomAhead() {
          if (claiming) return Promise.resolve();
          if (roomWaiters.length === 0 && hasRoom()) {
            enter();
            return Promise.resolve();
          }
          return new Promise<void>((resolve) =>
            roomWaiters.push(() => {
              enter();
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
    get jobsPerPlace() {
      return typicalMs !== undefined && typicalMs <= QUICK_ANSWER_MS ? MOST_JOBS_PER_PLACE : FEWEST_JOBS_PER_PLACE;
    },
    answered(ms) {
      typicalMs = typicalMs === undefined ? ms : typicalMs + LATEST_WEIGHT * (ms - typicalMs);
    },
  };
}
