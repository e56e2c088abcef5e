// Prometheus matrix results -> uPlot's columnar data: one shared time axis on the step grid, gaps as null.
import type { AlignedData } from "uplot";

export interface MatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

export function alignMatrix(series: MatrixSeries[], start: number, end: number, step: number): AlignedData {
  const n = Math.max(1, Math.floor((end - start) / step) + 1);
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = start + i * step;
  const out: (number | null)[][] = [Array.from(xs)];
  for (const s of series) {
    const ys: (number | null)[] = new Array(n).fill(null);
    for (const [t, v] of s.values) {
      const i = Math.round((t - start) / step);
      if (i >= 0 && i < n) {
        const y = Number(v);
        ys[i] = Number.isFinite(y) ? y : null;
      }
    }
    out.push(ys);
  }
  return out as AlignedData;
}

/** Running sums for a stacked chart (null counts as 0 under a series that has a value). */
export function stack(data: AlignedData): AlignedData {
  const out: (number | null)[][] = [data[0] as number[]];
  const n = (data[0] as number[]).length;
  const acc = new Array(n).fill(0);
  for (let s = 1; s < data.length; s++) {
    const ys = data[s] as (number | null)[];
    out.push(
      ys.map((y, i) => {
        if (y === null || y === undefined) return null;
        acc[i] += y;
        return acc[i];
      }),
    );
  }
  return out as AlignedData;
}

const PALETTE = ["#3b82f6", "#ef4444", "#10b981", "#f59e0b", "#8b5cf6", "#ec4899", "#14b8a6", "#f97316", "#6366f1", "#84cc16", "#06b6d4", "#a855f7"];
export function color(i: number): string {
  if (i < PALETTE.length) return PALETTE[i];
  return `hsl(${(i * 137.508) % 360} 65% 50%)`;
}
