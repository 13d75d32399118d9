import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSemaphore, withPermit } from "../../src/semaphore.ts";

describe("createSemaphore", () => {
  it("holds at most its size, and hands places on first come, first served", async () => {
    const semaphore = createSemaphore(2);
    const order: number[] = [];
    const permits = [1, 2, 3, 4].map((n) => ({ n, permit: semaphore.permit() }));
    const taken = permits.map(({ n, permit }) => permit.take().then(() => order.push(n)));
    await Promise.resolve();
    expect(order).toEqual([1, 2]);
    expect([semaphore.held, semaphore.waiting]).toEqual([2, 2]);
    permits[1]!.permit.release();
    await taken[2];
    expect(order).toEqual([1, 2, 3]);
    expect([semaphore.held, semaphore.waiting]).toEqual([2, 1]);
    permits[0]!.permit.release();
    permits[2]!.permit.release();
    await taken[3];
    expect([semaphore.held, semaphore.waiting]).toEqual([1, 0]);
    permits[3]!.permit.release();
    expect(semaphore.held).toBe(0);
  });

  it("gives a place back once however often it is released, and ignores a permit never taken", async () => {
    const semaphore = createSemaphore(1);
    const unused = semaphore.permit();
    unused.release();
    const first = semaphore.permit();
    await first.take();
    first.release();
    first.release();
    expect(semaphore.held).toBe(0);
    await expect(first.take()).rejects.toThrow(/taken once/);
  });

  it("drops a waiting permit released before its turn, without losing the place", async () => {
    const semaphore = createSemaphore(1);
    const holder = semaphore.permit();
    await holder.take();
    const quitter = semaphore.permit();
    const quitting = quitter.take();
    const next = semaphore.permit();
    const nextTaken = next.take();
    quitter.release();
    await expect(quitting).rejects.toThrow(/released before/);
    holder.release();
    await nextTaken;
    expect([semaphore.held, semaphore.waiting]).toEqual([1, 0]);
  });

  it("refuses a size that is not a positive whole number", () => {
    for (const size of [0, -1, 1.5, Number.NaN]) expect(() => createSemaphore(size)).toThrow(/positive whole size/);
  });

  it("never runs more than its size at once, and runs everything, whatever the work's timing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 30 }), async (size, delays) => {
        const semaphore = createSemaphore(size);
        let running = 0;
        let most = 0;
        const results = await Promise.all(
          delays.map((delay, index) =>
            withPermit(semaphore, async () => {
              running += 1;
              most = Math.max(most, running);
              for (let turn = 0; turn < delay; turn++) await new Promise((resolve) => setImmediate(resolve));
              running -= 1;
              if (delay === 3) throw new Error(`work ${index} failed`);
              return index;
            }).catch(() => -1),
          ),
        );
        expect(most).toBeLessThanOrEqual(size);
        expect(results).toEqual(delays.map((delay, index) => (delay === 3 ? -1 : index)));
        expect([semaphore.held, semaphore.waiting]).toEqual([0, 0]);
      }),
      { numRuns: 100 },
    );
  });
});
