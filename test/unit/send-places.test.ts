import { describe, expect, it } from "vitest";
import { createSendPlaces, FEWEST_JOBS_PER_PLACE, MOST_JOBS_PER_PLACE } from "../../src/charges/send-places.ts";

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
    await places.permit().roomAhead(); // nobody in line
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

  it("lets the line grow longer than its size while answers are quick enough for it to clear within 100 ms", async () => {
    const places = createSendPlaces(1, 1_000);
    places.answered(25); // four answers clear within 100 ms
    await places.permit().take();
    const line = Array.from({ length: 4 }, () => places.permit());
    line.forEach((place) => void place.take());
    let letIn = false;
    const turn = places.permit().roomAhead().then(() => (letIn = true));
    await Promise.resolve();
    expect(letIn).toBe(false);
    line[3]!.release();
    await turn;
    expect(letIn).toBe(true);
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
