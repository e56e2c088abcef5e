import { describe, expect, it } from "vitest";
import { alignMatrix, stack } from "../chart/align";
import { parseState, resolveRange, toSearch } from "./state";

describe("explore state in the URL", () => {
  it("round-trips every part of the view", () => {
    const s = parseState(new URLSearchParams("q=up&q=rate(x[5m])&tab=table&from=1000&to=5000&step=30s&stack=1&unit=bytes"));
    expect(s).toEqual({ queries: ["up", "rate(x[5m])"], tab: "table", range: "1h", from: 1000, to: 5000, step: "30s", stacked: true, unit: "bytes" });
    expect(parseState(new URLSearchParams(toSearch(s).slice(1)))).toEqual(s);
  });
  it("falls back to sane defaults for bad input", () => {
    const s = parseState(new URLSearchParams("range=forever&from=9&to=3&unit=parsecs&tab=pie"));
    expect(s.range).toBe("1h");
    expect(s.from).toBeNull();
    expect(s.unit).toBe("");
    expect(s.tab).toBe("graph");
    expect(s.queries).toEqual([""]);
  });
  it("picks about 250 points unless a step is given", () => {
    const s = parseState(new URLSearchParams("range=1h"));
    expect(resolveRange(s, 10_000)).toEqual({ start: 6400, end: 10_000, step: 15 });
    expect(resolveRange({ ...s, step: "1m" }, 10_000).step).toBe(60);
  });
});

describe("chart data", () => {
  it("aligns series on the step grid with gaps as null", () => {
    const data = alignMatrix(
      [
        { metric: {}, values: [[100, "1"], [120, "3"]] },
        { metric: {}, values: [[110, "NaN"], [120, "2"]] },
      ],
      100,
      120,
      10,
    );
    expect(data).toEqual([[100, 110, 120], [1, null, 3], [null, null, 2]]);
    expect(stack(data)).toEqual([[100, 110, 120], [1, null, 3], [null, null, 5]]);
  });
});
