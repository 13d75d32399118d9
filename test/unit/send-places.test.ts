import { describe, expect, it } from "vitest";
import { createSendPlaces } from "../../src/charges/send-places.ts";

describe("createSendPlaces", () => {
  it("lets charges claim ahead until answers grow slow, and again once they are quick", () => {
    const places = createSendPlaces(2, 1_000);
    expect(places.claimAhead).toBe(true);
    places.answered(300);
    places.answered(1_500); // a little slow, once: the typical answer is still quick
    expect(places.claimAhead).toBe(true);
    places.answered(5_000);
    expect(places.claimAhead).toBe(false);
    places.answered(300);
    expect(places.claimAhead).toBe(false);
    places.answered(300);
    places.answered(300);
    expect(places.claimAhead).toBe(true);
  });

  it("holds at most its size of permits", async () => {
    const places = createSendPlaces(1, 1_000);
    const first = places.permit();
    await first.take();
    let second = false;
    const waiting = places.permit();
    const taken = waiting.take().then(() => (second = true));
    await Promise.resolve();
    expect(second).toBe(false);
    first.release();
    await taken;
    expect(second).toBe(true);
  });
});
