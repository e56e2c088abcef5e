// A list that renders only the rows in view (plus a margin), so 5,000 alerts scroll smoothly.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = 8): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return [first, last];
}

export function VirtualList<T>({
  items,
  rowHeight,
  height,
  render,
  label,
}: {
  items: T[];
  rowHeight: number;
  height: number | string;
  render: (item: T, index: number) => ComponentChildren;
  label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState(0);
  const [viewport, setViewport] = useState(800);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setViewport(el.clientHeight);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const [first, last] = visibleRange(scroll, viewport, rowHeight, items.length);
  return (
    <div class="virtual" ref={box} style={{ height }} onScroll={(e) => setScroll(e.currentTarget.scrollTop)} role="list" aria-label={label}>
      <div style={{ height: items.length * rowHeight, position: "relative" }}>
        {items.slice(first, last).map((item, i) => (
          <div key={first + i} role="listitem" aria-setsize={items.length} aria-posinset={first + i + 1} class="vrow" style={{ position: "absolute", top: (first + i) * rowHeight, height: rowHeight, left: 0, right: 0 }}>
            {render(item, first + i)}
          </div>
        ))}
      </div>
    </div>
  );
}
