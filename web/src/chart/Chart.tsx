// The one chart of the UI (uPlot): drag to zoom, click a legend entry to hide a series, values on hover.
import { useEffect, useRef } from "preact/hooks";
import uPlot, { type AlignedData, type Options } from "uplot";
import "uplot/dist/uPlot.min.css";
import { formatValue } from "../lib/format";
import { color, stack } from "./align";

export interface ChartProps {
  data: AlignedData;
  labels: string[];
  stacked?: boolean;
  unit?: string;
  height?: number;
  /** Called with the new range (unix seconds) after a drag-zoom. */
  onZoom?: (from: number, to: number) => void;
  /** Hide the legend past this many series (the table lists them). */
  legendLimit?: number;
  /** Measured draw time in ms, for the performance figures. */
  onDrawn?: (ms: number) => void;
}

function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function Chart({ data, labels, stacked = false, unit = "", height = 320, onZoom, legendLimit = 60, onDrawn }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const zoom = useRef(onZoom);
  zoom.current = onZoom;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const t0 = performance.now();
    const axisColor = themeColor("--muted", "#888");
    const gridColor = themeColor("--grid", "rgba(128,128,128,.15)");
    const fmt = (_u: uPlot, v: number) => (v === null || v === undefined ? "—" : formatValue(v, unit));
    const opts: Options = {
      width: el.clientWidth || 800,
      height,
      legend: { show: labels.length <= legendLimit, live: true },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { size: 6 } },
      scales: { x: { time: true } },
      axes: [
        { stroke: axisColor, grid: { stroke: gridColor }, ticks: { stroke: gridColor } },
        { stroke: axisColor, grid: { stroke: gridColor }, ticks: { stroke: gridColor }, size: 70, values: (u, vals) => vals.map((v) => fmt(u, v)) },
      ],
      series: [
        { label: "time", value: (_u, v) => (v == null ? "—" : new Date(v * 1000).toLocaleString()) },
        ...labels.map((label, i) => ({
          label,
          stroke: color(i),
          width: 1.5,
          fill: stacked ? color(i) + "33" : undefined,
          value: fmt,
          points: { show: false },
          spanGaps: false,
        })),
      ],
      hooks: {
        draw: [
          () => {
            const perf = ((window as any).__nightowlPerf ??= { drawMs: [] });
            perf.lastDrawAt = performance.now();
            perf.chartStartAt ??= t0;
          },
        ],
        setSelect: [
          (u: uPlot) => {
            if (u.select.width < 3) return;
            const from = u.posToVal(u.select.left, "x");
            const to = u.posToVal(u.select.left + u.select.width, "x");
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            zoom.current?.(from, to);
          },
        ],
      },
    };
    const shown = stacked ? stack(data) : data;
    const u = new uPlot(opts, shown, el);
    plot.current = u;
    const legend = u.root.querySelector(".u-legend");
    if (legend) {
      legend.setAttribute("tabindex", "0"); // it scrolls: keyboard users must reach it
      legend.setAttribute("aria-label", "Legend: click a series to hide or show it");
    }
    onDrawn?.(performance.now() - t0);
    let width = el.clientWidth;
    // Only a real change of width redraws: redrawing on every notification can feed back into layout.
    const resize = new ResizeObserver(() => {
      if (Math.abs(el.clientWidth - width) < 2) return;
      width = el.clientWidth;
      u.setSize({ width, height });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [data, labels, stacked, unit, height, legendLimit]);
  return <div class="chart" ref={box} role="img" aria-label={`Graph of ${labels.length} series`} />;
}
