// Metrics browser: every metric name with its type, help and series count; its labels and their values.
import { useMemo, useState } from "preact/hooks";
import { api } from "../api/client";
import { Empty, ErrorBox, Loading, PageHeader } from "../app/ui";
import { useData } from "../app/useData";
import { setQuery, useLocation } from "../lib/router";

export function MetricsBrowser() {
  const url = useLocation();
  const selected = url.searchParams.get("metric");
  const [filter, setFilter] = useState("");
  const names = useData(() => api.get<{ data: string[] }>("/prometheus/api/v1/label/{name}/values", { path: { name: "__name__" } }));
  const meta = useData(() => api.get<{ data: Record<string, { type: string; help: string; unit: string }[]> }>("/prometheus/api/v1/metadata"));
  const counts = useData(() => api.get<{ data: { result: { metric: { __name__: string }; value: [number, string] }[] } }>("/prometheus/api/v1/query", { query: { query: 'count by (__name__) ({__name__=~".+"})' } }));
  const count = useMemo(() => new Map((counts.data?.data.result ?? []).map((r) => [r.metric.__name__, Number(r.value[1])])), [counts.data]);
  const list = (names.data?.data ?? []).filter((n) => n.toLowerCase().includes(filter.toLowerCase()));
  return (
    <div class="page">
      <PageHeader title="Metrics browser">
        <span class="muted">
          {names.data?.data.length ?? "…"} metrics, {[...count.values()].reduce((a, b) => a + b, 0)} series
        </span>
      </PageHeader>
      <div class="toolbar">
        <label class="grow">
          Filter
          <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} placeholder="http_requests" />
        </label>
      </div>
      <ErrorBox error={names.error || meta.error} />
      <div class={selected ? "grid-2" : ""}>
        {names.loading && !names.data ? (
          <Loading />
        ) : list.length === 0 ? (
          <Empty title="No metrics">Nothing has been ingested yet, or nothing matches the filter.</Empty>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th>Metric</th>
                <th>Type</th>
                <th class="num">Series</th>
              </tr>
            </thead>
            <tbody>
              {list.map((n) => {
                const m = meta.data?.data[n]?.[0];
                return (
                  <tr key={n} class={n === selected ? "selected" : ""}>
                    <td>
                      <button class="link" onClick={() => setQuery({ metric: n })}>
                        {n}
                      </button>
                      {m?.help && <div class="small muted">{m.help}</div>}
                    </td>
                    <td>{m?.type ?? ""}</td>
                    <td class="num">{count.get(n) ?? ""}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {selected && <MetricLabels name={selected} />}
      </div>
    </div>
  );
}

function MetricLabels({ name }: { name: string }) {
  const series = useData(() => api.get<{ data: Record<string, string>[] }>("/prometheus/api/v1/series", { query: { "match[]": name } }), [name]);
  const labels = useMemo(() => {
    const by = new Map<string, Set<string>>();
    for (const s of series.data?.data ?? []) for (const [k, v] of Object.entries(s)) if (k !== "__name__") (by.get(k) ?? by.set(k, new Set()).get(k)!).add(v);
    return [...by.entries()].sort((a, b) => b[1].size - a[1].size);
  }, [series.data]);
  return (
    <section class="card" aria-label={`Labels of ${name}`}>
      <h2>
        <code>{name}</code>
      </h2>
      <p>
        <a href={`/explore?${new URLSearchParams({ q: name })}`}>Graph it in Explore</a> · {series.data?.data.length ?? "…"} series
      </p>
      <ErrorBox error={series.error} />
      <table class="table">
        <thead>
          <tr>
            <th>Label</th>
            <th class="num">Values</th>
            <th>Examples</th>
          </tr>
        </thead>
        <tbody>
          {labels.map(([k, values]) => (
            <tr key={k}>
              <td>
                <code>{k}</code>
              </td>
              <td class="num">{values.size}</td>
              <td class="small">{[...values].slice(0, 6).join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
