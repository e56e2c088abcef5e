import { describe, expect, it } from "vitest";
import { buildUrl } from "../api/client";
import { safeNext } from "../login/Login";
import { distinctLabels, formatLabels, formatValue } from "./format";
import { isServerPath, match } from "./router";
import { formatDuration, parseDuration, relative, toDate, utcTime } from "./time";

describe("durations", () => {
  it("parses Prometheus durations and rejects the rest", () => {
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("250ms")).toBe(0.25);
    expect(parseDuration("2d")).toBe(172800);
    expect(parseDuration("90")).toBe(90);
    expect(parseDuration("soon")).toBeNull();
    expect(parseDuration("1h 30m")).toBeNull();
    expect(parseDuration("")).toBeNull();
  });
  it("formats seconds back", () => {
    expect(formatDuration(5400)).toBe("1h30m");
    expect(formatDuration(0.25)).toBe("250ms");
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(90061)).toBe("1d1h1m1s");
  });
  it("says how long ago in at most two units", () => {
    const now = Date.UTC(2026, 0, 1, 12);
    expect(relative(new Date(now - 3_723_000), now)).toBe("1h2m ago");
    expect(relative(new Date(now + 120_000), now)).toBe("in 2m");
  });
  it("reads RFC 3339 and unix times, and treats Go's zero time as none", () => {
    expect(toDate("2026-01-01T00:00:00Z")?.getTime()).toBe(Date.UTC(2026, 0, 1));
    expect(toDate(1_700_000_000)?.getTime()).toBe(1_700_000_000_000);
    expect(toDate("0001-01-01T00:00:00Z")).toBeNull();
    expect(toDate(null)).toBeNull();
    expect(utcTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe("2026-01-02 03:04:05 UTC");
  });
});

describe("formatting", () => {
  it("prints values by unit", () => {
    expect(formatValue(1536, "bytes")).toBe("1.5 KiB");
    expect(formatValue(0.0123, "seconds")).toBe("12.3 ms");
    expect(formatValue(0.5, "percent")).toBe("50 %");
    expect(formatValue(2_500_000)).toBe("2.5M");
    expect(formatValue("NaN")).toBe("NaN");
    expect(formatValue("+Inf")).toBe("+Inf");
    expect(formatValue(null)).toBe("—");
  });
  it("prints label sets as Prometheus does, and finds the labels that differ", () => {
    expect(formatLabels({ __name__: "up", job: "a", instance: 'x"y' })).toBe('up{instance="x\\"y", job="a"}');
    expect(distinctLabels([{ job: "a", i: "1" }, { job: "a", i: "2" }])).toEqual(["i"]);
  });
});

describe("routing", () => {
  it("matches patterns with parameters", () => {
    expect(match("/services/:name", "/services/pay%20ments")).toEqual({ name: "pay ments" });
    expect(match("/services/:name", "/services")).toBeNull();
    expect(match("/", "/")).toEqual({});
  });
  it("leaves server paths to the browser", () => {
    expect(isServerPath("/api/v1/alerts")).toBe(true);
    expect(isServerPath("/docs")).toBe(true);
    expect(isServerPath("/metrics")).toBe(true);
    expect(isServerPath("/alerts")).toBe(false);
    expect(isServerPath("/explore/metrics")).toBe(false);
  });
  it("only returns to paths of this site after login", () => {
    expect(safeNext("/alerts?state=firing")).toBe("/alerts?state=firing");
    expect(safeNext("//evil.example/")).toBe("/");
    expect(safeNext("https://evil.example/")).toBe("/");
    expect(safeNext("/\\evil.example")).toBe("/");
    expect(safeNext("/login?next=/x")).toBe("/");
    expect(safeNext(null)).toBe("/");
  });
});

describe("API URLs", () => {
  it("fills path parameters and repeats array query parameters", () => {
    expect(buildUrl("/api/v1/checks/{check_id}/run", { path: { check_id: "a/b" } })).toBe("/api/v1/checks/a%2Fb/run");
    expect(buildUrl("/api/v1/alerts", { query: { label: ["a=b", "c=d"], state: "", x: undefined } })).toBe("/api/v1/alerts?label=a%3Db&label=c%3Dd");
    expect(() => buildUrl("/api/v1/checks/{check_id}")).toThrow(/check_id/);
  });
});
