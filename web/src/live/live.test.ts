import { describe, expect, it } from "vitest";
import { backoff } from "./socket";

describe("reconnect", () => {
  it("backs off exponentially up to 30 s", () => {
    expect([0, 1, 2, 3].map(backoff)).toEqual([500, 1000, 2000, 4000]);
    expect(backoff(20)).toBe(30_000);
  });
});
