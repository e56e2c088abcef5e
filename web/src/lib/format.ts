// Numbers and label sets as a Prometheus user reads them.

export function formatValue(v: number | string | null | undefined, unit = ""): string {
  if (v === null || v === undefined) return "—";
  const n = typeof v === "string" ? Number(v) : v;
  if (Number.isNaN(n)) return typeof v === "string" ? v : "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : "-Inf";
  if (unit === "bytes") return si(n, 1024, ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]);
  if (unit === "seconds") return n < 1 && n !== 0 ? `${+(n * 1000).toPrecision(3)} ms` : `${+n.toPrecision(4)} s`;
  if (unit === "percent") return `${+(n * 100).toPrecision(3)} %`;
  const abs = Math.abs(n);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) return si(n, 1000, ["", "k", "M", "G", "T", "P", "E"]);
  return String(+n.toPrecision(4));
}

function si(n: number, base: number, names: string[]): string {
  let i = 0;
  let x = n;
  while (Math.abs(x) >= base && i < names.length - 1) {
    x /= base;
    i++;
  }
  if (Math.abs(n) < 1e-3 && n !== 0 && base === 1000) return n.toExponential(2);
  return `${+x.toPrecision(3)}${names[i] ? (base === 1024 ? " " : "") + names[i] : ""}`;
}

export function formatLabels(labels: Record<string, string>, skipName = false): string {
  const name = labels.__name__ ?? "";
  const inner = Object.keys(labels)
    .filter((k) => k !== "__name__")
    .sort()
    .map((k) => `${k}="${labels[k].replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)
    .join(", ");
  return `${skipName ? "" : name}{${inner}}`;
}

/** The label pairs that differ between series: a legend that names what matters. */
export function distinctLabels(sets: Record<string, string>[]): string[] {
  const keys = new Set<string>();
  sets.forEach((s) => Object.keys(s).forEach((k) => keys.add(k)));
  return [...keys].filter((k) => new Set(sets.map((s) => s[k])).size > 1).sort();
}
