import { describe, expect, it } from "vitest";
import { parseDuration } from "./Maintenance";

describe("parseDuration", () => {
  it("reads seconds, minutes, hours and days", () => {
    expect(parseDuration("90")).toBe(90);
    expect(parseDuration("30m")).toBe(1800);
    expect(parseDuration(" 2h ")).toBe(7200);
    expect(parseDuration("1.5d")).toBe(129600);
  });
  it("refuses what is not a duration", () => {
    expect(parseDuration("two hours")).toBeNull();
    expect(parseDuration("2w")).toBeNull();
    expect(parseDuration("")).toBeNull();
  });
});
