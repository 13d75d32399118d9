/** One use of a semaphore: taken at most once, given back at most once. */
export interface Permit {
  /** Resolves once this permit holds one of the semaphore's places (first come, first served); at once when it already does. */
  take(): Promise<void>;
  /** Gives the place back; does nothing when it was never taken or is already back. */
  release(): void;
}

export interface Semaphore {
  readonly size: number;
  permit(): Permit;
  /** Places held, and permits waiting for one. */
  readonly held: number;
  readonly waiting: number;
}

/** At most `size` permits held at once; the others wait in order. */
export function createSemaphore(size: number): Semaphore {
  if (!Number.isInteger(size) || size < 1) throw new Error(`a semaphore needs a positive whole size, not ${size}`);
  let held = 0;
  const queue: Array<() => void> = [];
  const handOn = () => {
    const next = queue.shift();
    if (next === undefined) held -= 1;
    else next(); // the place goes straight to the next in line: `held` stays
  };
  return {
    size,
    get held() {
      return held;
    },
    get waiting() {
      return queue.length;
    },
    permit() {
      let state: "new" | "taking" | "held" | "released" = "new";
      let cancel = () => {};
      return {
        take() {
          if (state === "held") return Promise.resolve();
          if (state !== "new") return Promise.reject(new Error(`a permit is taken once (this one is ${state})`));
          if (held < size) {
            held += 1;
            state = "held";
            return Promise.resolve();
          }
          state = "taking";
          return new Promise<void>((resolve, reject) => {
            const handed = () => {
              state = "held";
              resolve();
            };
            queue.push(handed);
            cancel = () => {
              queue.splice(queue.indexOf(handed), 1);
              reject(new Error("the permit was released before it got its place"));
            };
          });
        },
        release() {
          const was = state;
          state = "released";
          if (was === "held") handOn();
          else if (was === "taking") cancel();
        },
      };
    },
  };
}

/** Runs `work` holding a place of `semaphore`. */
export async function withPermit<T>(semaphore: Pick<Semaphore, "permit">, work: () => Promise<T>): Promise<T> {
  const permit = semaphore.permit();
  await permit.take();
  try {
    return await work();
  } finally {
    permit.release();
  }
}
