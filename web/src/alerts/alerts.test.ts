import { describe, expect, it } from "vitest";
import { groupRows, matchesFilter, parseFilterText, silenceMatchers, sortAlerts, type InboxAlert } from "./model";
import { visibleRange } from "./VirtualList";

function alert(id: string, extra: Partial<InboxAlert> = {}): InboxAlert {
  return {
    id,
    source: "rule",
    rule: "r",
    alertname: "A",
    severity: "warning",
    state: "firing",
    labels: { alertname: "A", service: "api", severity: "warning" },
    annotations: {},
    active_at: "2026-01-01T00:00:00Z",
    fired_at: "2026-01-01T00:01:00Z",
    resolved_at: null,
    acknowledged: null,
    snoozed_until: null,
    ...extra,
  };
}

const none = { state: "", severity: "", text: "", ack: "" };

describe("inbox filters", () => {
  it("parses label matchers and free words", () => {
    expect(parseFilterText('service="api" team=~"a.*" disk full')).toEqual({
      matchers: [
        { name: "service", op: "=", value: "api" },
        { name: "team", op: "=~", value: "a.*" },
      ],
      terms: ["disk", "full"],
    });
    expect(parseFilterText("job!=node").matchers).toEqual([{ name: "job", op: "!=", value: "node" }]);
  });
  it("shows active alerts by default and filters by state, severity, acknowledgement and labels", () => {
    expect(matchesFilter(alert("1"), none)).toBe(true);
    expect(matchesFilter(alert("1", { state: "resolved" }), none)).toBe(false);
    expect(matchesFilter(alert("1", { state: "resolved" }), { ...none, state: "all" })).toBe(true);
    expect(matchesFilter(alert("1"), { ...none, severity: "critical" })).toBe(false);
    expect(matchesFilter(alert("1"), { ...none, ack: "acked" })).toBe(false);
    expect(matchesFilter(alert("1"), { ...none, text: 'service="api"' })).toBe(true);
    expect(matchesFilter(alert("1"), { ...none, text: 'service=~"a."' })).toBe(false);
    expect(matchesFilter(alert("1"), { ...none, text: 'service!~"db"' })).toBe(true);
    expect(matchesFilter(alert("1"), { ...none, text: "API" })).toBe(true);
    expect(matchesFilter(alert("1"), { ...none, text: 'x=~"("' })).toBe(false);
  });
  it("orders firing before pending, worst severity and unacknowledged first", () => {
    const items = [
      alert("p", { state: "pending" }),
      alert("w"),
      alert("c", { severity: "critical" }),
      alert("a", { severity: "critical", acknowledged: { by: "x", at: "", note: "" } }),
    ];
    expect(sortAlerts(items).map((a) => a.id)).toEqual(["c", "a", "w", "p"]);
  });
  it("groups by a label with a header row per group", () => {
    const rows = groupRows([alert("1"), alert("2", { labels: { service: "db" } }), alert("3")], "service");
    expect(rows.map((r) => (r.kind === "group" ? `${r.key}:${r.count}` : r.alert.id))).toEqual(['service="api":2', "1", "3", 'service="db":1', "2"]);
  });
  it("pre-fills a silence with exactly the alert's labels", () => {
    expect(silenceMatchers({ b: 'x"y', a: "1" })).toBe('a="1", b="x\\"y"');
  });
  it("renders only the rows in view", () => {
    expect(visibleRange(0, 580, 58, 5000)).toEqual([0, 18]);
    expect(visibleRange(58 * 1000, 580, 58, 5000)).toEqual([992, 1018]);
    expect(visibleRange(58 * 4995, 580, 58, 5000)).toEqual([4987, 5000]);
  });
});
