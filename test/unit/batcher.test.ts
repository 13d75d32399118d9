import { describe, expect, it, vi } from "vitest";
import { createBatcher } from "../../src/batcher.ts";

/** A batcher doubling numbers, recording every batch it ran. */
function doubling(options: { maxItems: number; windowMs: number }, answer?: (items: number[]) => Promise<number[]>) {
  const batches: number[][] = [];
  const batcher = createBatcher(async (items: number[]) => {
    batches.push(items);
    return answer === undefined ? items.map((n) => n * 2) : answer(items);
  }, options);
  return { batcher, batches };
}

describe("createBatcher (group commit)", () => {
  it("runs the items added in one turn of the event loop as one batch, answering each its own result", async () => {
    const { batcher, batches } = doubling({ maxItems: 100, windowMs: 0 });
    expect(await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n)))).toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
    expect(await batcher.add(6)).toBe(12);
    expect(batches).toEqual([[1, 2, 3, 4, 5], [6]]);
  });

  it("runs a full batch at once, and what comes after in the next", async () => {
    const { batcher, batches } = doubling({ maxItems: 2, windowMs: 60_000 });
    const started = Date.now();
    expect(await Promise.all([1, 2, 3, 4].map((n) => batcher.add(n)))).toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("no item waits for others longer than the window", async () => {
    vi.useFakeTimers();
    try {
      const { batcher, batches } = doubling({ maxItems: 100, windowMs: 50 });
      const first = batcher.add(1);
      vi.advanceTimersByTime(20);
      const second = batcher.add(2);
      vi.advanceTimersByTime(29);
      await Promise.resolve();
      expect(batches).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(await Promise.all([first, second])).toEqual([2, 4]);
      expect(batches).toEqual([[1, 2]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a failed batch fails exactly its items; the next batch runs as usual", async () => {
    let calls = 0;
    const { batcher } = doubling({ maxItems: 100, windowMs: 0 }, async (items) => {
      if (calls++ === 0) throw new Error("store down");
      return items.map((n) => n * 2);
    });
    const failed = await Promise.allSettled([1, 2, 3].map((n) => batcher.add(n)));
    expect(failed.map((r) => r.status === "rejected" && (r.reason as Error).message)).toEqual(["store down", "store down", "store down"]);
    expect(await Promise.all([4, 5].map((n) => batcher.add(n)))).toEqual([8, 10]);
  });

  it("a run that throws before its promise, or answers too few items, fails its items rather than hanging them", async () => {
    const throwing = createBatcher<number, number>(
      () => {
        throw new Error("thrown at once");
      },
      { maxItems: 10, windowMs: 0 },
    );
    await expect(throwing.add(1)).rejects.toThrow("thrown at once");
    const { batcher } = doubling({ maxItems: 10, windowMs: 0 }, async () => [2]);
    const settled = await Promise.allSettled([1, 2].map((n) => batcher.add(n)));
    expect(settled.map((r) => r.status === "rejected" && (r.reason as Error).message)).toEqual(["the batch answered 1 of 2 items", "the batch answered 1 of 2 items"]);
  });

  it("batches run side by side: a slow batch in flight does not hold the next one back", async () => {
    let release: () => void = () => {};
    const { batcher } = doubling({ maxItems: 100, windowMs: 0 }, async (items) => {
      if (items[0] === 1) await new Promise<void>((resolve) => (release = resolve));
      return items.map((n) => n * 2);
    });
    const slow = batcher.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await batcher.add(2)).toBe(4);
    release();
    expect(await slow).toBe(2);
  });
});
