// Explore's whole state lives in the URL, so a link reproduces the view: queries, tab, range, step, style.
import { parseDuration } from "../lib/time";

export interface ExploreState {
  queries: string[];
  tab: "graph" | "table";
  range: string; // relative span ending now ("1h"), used when from/to are not set
  from: number | null; // absolute unix seconds
  to: number | null;
  step: string; // "" = automatic
  stacked: boolean;
  unit: string;
}

export const DEFAULT_RANGE = "1h";
export const RANGES = ["5m", "15m", "1h", "3h", "6h", "12h", "1d", "2d", "7d"];
export const UNITS = ["", "seconds", "bytes", "percent"];

function num(v: string | null): number | null {
  if (v === null || v === "") return null;
  const n = Number(v);
  if (Number.isFinite(n)) return n;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t / 1000;
}

export function parseState(params: URLSearchParams): ExploreState {
  const queries = params.getAll("q");
  const from = num(params.get("from"));
  const to = num(params.get("to"));
  const absolute = from !== null && to !== null && to > from;
  return {
    queries: queries.length ? queries : [""],
    tab: params.get("tab") === "table" ? "table" : "graph",
    range: parseDuration(params.get("range") ?? "") ? params.get("range")! : DEFAULT_RANGE,
    from: absolute ? from : null,
    to: absolute ? to : null,
    step: params.get("step") ?? "",
    stacked: params.get("stack") === "1",
    unit: UNITS.includes(params.get("unit") ?? "") ? params.get("unit")! : "",
  };
}

export function toSearch(s: ExploreState): string {
  const p = new URLSearchParams();
  s.queries.forEach((q) => p.append("q", q));
  if (s.tab !== "graph") p.set("tab", s.tab);
  if (s.from !== null && s.to !== null) {
    p.set("from", String(Math.round(s.from)));
    p.set("to", String(Math.round(s.to)));
  } else if (s.range !== DEFAULT_RANGE) p.set("range", s.range);
  if (s.step) p.set("step", s.step);
  if (s.stacked) p.set("stack", "1");
  if (s.unit) p.set("unit", s.unit);
  return "?" + p.toString();
}

/** Start, end and step of the range query: about 250 points over the span unless a step is given. */
export function resolveRange(s: ExploreState, nowSeconds: number): { start: number; end: number; step: number } {
  const end = s.to ?? nowSeconds;
  const start = s.from ?? end - (parseDuration(s.range) ?? 3600);
  const span = Math.max(1, end - start);
  const explicit = parseDuration(s.step);
  const step = explicit && explicit > 0 ? explicit : Math.max(1, Math.ceil(span / 250));
  return { start: Math.floor(start), end: Math.floor(end), step };
}
