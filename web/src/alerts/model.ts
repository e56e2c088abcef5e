// The inbox's alert and the pure functions over it: filter, group, and the silence matchers for one alert.
export interface InboxAlert {
  id: string;
  source: "rule" | "received";
  rule: string | null;
  alertname: string;
  severity: string;
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  active_at: string | null;
  fired_at: string | null;
  resolved_at: string | null;
  acknowledged: { by: string; at: string; note: string } | null;
  snoozed_until: string | null;
  silenced_by?: string[];
  receivers?: string[];
  generator_url?: string;
}

export interface Filter {
  state: string; // "" = active (pending + firing), or one state, or "all"
  severity: string;
  text: string; // free text or label matchers: service="api" team=~"a.*"
  ack: string; // "" | "unacked" | "acked"
}

interface Matcher {
  name: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

/** `a="b", c=~"d.*"` -> matchers; words that are not matchers become free-text terms. */
export function parseFilterText(text: string): { matchers: Matcher[]; terms: string[] } {
  const matchers: Matcher[] = [];
  const rest = text.replace(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"|([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*([^\s,"{}]+)/g, (_, n1, o1, v1, n2, o2, v2) => {
    matchers.push({ name: n1 ?? n2, op: (o1 ?? o2) as Matcher["op"], value: (v1 ?? v2).replace(/\\"/g, '"') });
    return " ";
  });
  const terms = rest
    .replace(/[{},]/g, " ")
    .split(/\s+/)
    .filter(Boolean)
    .map((t) => t.toLowerCase());
  return { matchers, terms };
}

function matchOne(m: Matcher, labels: Record<string, string>): boolean {
  const v = labels[m.name] ?? "";
  switch (m.op) {
    case "=":
      return v === m.value;
    case "!=":
      return v !== m.value;
    case "=~":
    case "!~": {
      let ok: boolean;
      try {
        ok = new RegExp(`^(?:${m.value})$`).test(v);
      } catch {
        ok = false;
      }
      return m.op === "=~" ? ok : !ok;
    }
  }
}

export function matchesFilter(a: InboxAlert, f: Filter): boolean {
  if (f.state === "" && !(a.state === "firing" || a.state === "pending")) return false;
  if (f.state && f.state !== "all" && a.state !== f.state) return false;
  if (f.severity && a.severity !== f.severity) return false;
  if (f.ack === "acked" && !a.acknowledged) return false;
  if (f.ack === "unacked" && a.acknowledged) return false;
  if (f.text.trim()) {
    const { matchers, terms } = parseFilterText(f.text);
    if (!matchers.every((m) => matchOne(m, a.labels))) return false;
    const hay = `${Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(" ")} ${Object.values(a.annotations).join(" ")}`.toLowerCase();
    if (!terms.every((t) => hay.includes(t))) return false;
  }
  return true;
}

const SEV: Record<string, number> = { critical: 0, page: 0, error: 1, warning: 2, info: 3 };
const STATE: Record<string, number> = { firing: 0, pending: 1, resolved: 2 };

/** Firing before pending, worse severity first, unacknowledged first, then newest. */
export function sortAlerts(items: InboxAlert[]): InboxAlert[] {
  return [...items].sort(
    (a, b) =>
      (STATE[a.state] ?? 3) - (STATE[b.state] ?? 3) ||
      (SEV[a.severity] ?? 4) - (SEV[b.severity] ?? 4) ||
      Number(!!a.acknowledged) - Number(!!b.acknowledged) ||
      (b.fired_at ?? b.active_at ?? "").localeCompare(a.fired_at ?? a.active_at ?? "") ||
      a.id.localeCompare(b.id),
  );
}

export type Row = { kind: "group"; key: string; count: number } | { kind: "alert"; alert: InboxAlert };

/** Rows for the virtual list: a header row per group (by a label), then its alerts. */
export function groupRows(items: InboxAlert[], by: string): Row[] {
  if (!by) return items.map((alert) => ({ kind: "alert", alert }));
  const groups = new Map<string, InboxAlert[]>();
  for (const a of items) {
    const key = a.labels[by] ?? "";
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(a);
  }
  const rows: Row[] = [];
  for (const [key, members] of [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    rows.push({ kind: "group", key: `${by}="${key}"`, count: members.length });
    members.forEach((alert) => rows.push({ kind: "alert", alert }));
  }
  return rows;
}

/** The silence of exactly this alert: one equality matcher per label. */
export function silenceMatchers(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k].replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)
    .join(", ");
}
