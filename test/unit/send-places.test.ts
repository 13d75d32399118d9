import { describe, expect, it, vi } from "vitest";
import { createSendPlaces, FEWEST_JOBS_PER_PLACE, LONGEST_LINE_PLACES, MOST_JOBS_PER_PLACE } from "../../src/charges/send-places.ts";

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

  it("lets a charge claim ahead only while fewer than its size wait in line, one more for each that leaves the line or gives up", async () => {
    const places = createSendPlaces(1, 1_000);
    const atOen = places.permit();
    await atOen.take();
    const alone = places.permit();
    await alone.roomAhead(); // nobody in line
    alone.release();
    const inLine = places.permit();
    const inLineTaken = inLine.take();
    const letIn: string[] = [];
    const [first, second, third] = [places.permit(), places.permit(), places.permit()];
    const turns = [first, second, third].map((place, n) => place.roomAhead().then(() => letIn.push(`#${n + 1}`)));
    await Promise.resolve();
    expect(letIn).toEqual([]);
    atOen.release(); // the one in line gets the place: the line is empty, one charge is let in
    await inLineTaken;
    await turns[0];
    expect(letIn).toEqual(["#1"]);
    const firstTaken = first.take(); // #1 claimed and is in line: nobody else yet
    await Promise.resolve();
    expect(letIn).toEqual(["#1"]);
    inLine.release();
    await firstTaken;
    await turns[1];
    expect(letIn).toEqual(["#1", "#2"]);
    second.release(); // #2's claim was refused: it never joins the line, and #3 goes
    await turns[2];
    expect(letIn).toEqual(["#1", "#2", "#3"]);
  });

  it("counts the charges let in that are still claiming: of five that come at once, one is let in", async () => {
    const places = createSendPlaces(1, 1_000);
    await places.permit().take();
    let letIn = 0;
    const comers = Array.from({ length: 5 }, () => places.permit());
    comers.forEach((place) => void place.roomAhead().then(() => (letIn += 1)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(letIn).toBe(1);
  });

  it("lets the line grow to three places' worth while answers are quick enough for it to clear within 100 ms", async () => {
    const places = createSendPlaces(1, 1_000);
    places.answered(5); // twenty answers would clear within 100 ms: three places' worth at most
    await places.permit().take();
    const line = Array.from({ length: 3 }, () => places.permit());
    line.forEach((place) => void place.take());
    let letIn = false;
    const turn = places.permit().roomAhead().then(() => (letIn = true));
    await Promise.resolve();
    expect(letIn).toBe(false);
    line[2]!.release();
    await turn;
    expect(letIn).toBe(true);
  });

  it("when quick answers turn into 5 s ones at once, no claim waits in line past the pre-send check's limit", async () => {
    vi.useFakeTimers();
    try {
      const size = 2;
      const abandonedAfterMs = 40_000;
      const places = createSendPlaces(size, abandonedAfterMs / 4 / LONGEST_LINE_PLACES);
      for (let i = 0; i < 10; i++) places.answered(3);
      const waits: number[] = [];
      const job = async () => {
        const place = places.permit();
        try {
          await place.roomAhead();
          const claimedAt = Date.now();
          await place.take();
          waits.push(Date.now() - claimedAt);
          const sent = Date.now();
          await new Promise((resolve) => setTimeout(resolve, 5_000));
          place.release();
          places.answered(Date.now() - sent);
        } finally {
          place.release();
        }
      };
      const jobs = Promise.all(Array.from({ length: size * places.jobsPerPlace }, job));
      await vi.advanceTimersByTimeAsync(200_000);
      await jobs;
      expect(waits).toHaveLength(size * MOST_JOBS_PER_PLACE);
      expect(waits.filter((ms) => ms > abandonedAfterMs / 2)).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("asks for the most jobs a place while answers come back within 50 ms, the fewest before any and once they are slower", () => {
    const places = createSendPlaces(2, 1_000);
    expect(places.jobsPerPlace).toBe(FEWEST_JOBS_PER_PLACE);
    places.answered(3);
    expect(places.jobsPerPlace).toBe(MOST_JOBS_PER_PLACE);
    places.answered(300);
    expect(places.jobsPerPlace).toBe(FEWEST_JOBS_PER_PLACE);
  });
});
