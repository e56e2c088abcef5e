// Times: shown in the browser's zone, with UTC in the title (hover); durations the Prometheus way.

const UNITS: [string, number][] = [
  ["y", 365 * 86400],
  ["w", 7 * 86400],
  ["d", 86400],
  ["h", 3600],
  ["m", 60],
  ["s", 1],
  ["ms", 0.001],
];

/** "1h30m" -> 5400 seconds; null when it is not a Prometheus duration. */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (!s) return null;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const re = /(\d+)(ms|y|w|d|h|m|s)/gy;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * UNITS.find(([u]) => u === m![2])![1];
    consumed = re.lastIndex;
  }
  return consumed === s.length && consumed > 0 ? total : null;
}

/** 5400 -> "1h30m"; 0.25 -> "250ms". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (seconds === 0) return "0s";
  let rest = Math.round(seconds * 1000) / 1000;
  let out = "";
  for (const [unit, size] of UNITS) {
    if (unit === "ms") {
      if (rest > 0 && !out) out += `${Math.round(rest * 1000)}ms`;
      break;
    }
    const n = Math.floor(rest / size + 1e-9);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

export function toDate(value: string | number | null | undefined): Date | null {
  if (value === null || value === undefined || value === "") return null;
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(d.getTime()) || d.getUTCFullYear() <= 1 ? null : d;
}

export function localTime(d: Date): string {
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function utcTime(d: Date): string {
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** "3m ago" / "in 2h" relative to now. */
export function relative(d: Date, now: number = Date.now()): string {
  const delta = (d.getTime() - now) / 1000;
  const text = formatDuration(Math.max(1, Math.round(Math.abs(delta)))).replace(/^(\d+[a-z]+)(\d+[a-z]+).*$/, "$1$2");
  return delta < 0 ? `${text} ago` : `in ${text}`;
}

/** A value for <input type="datetime-local"> in the browser's zone. */
export function toLocalInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
