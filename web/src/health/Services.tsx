// Services: the tri-state grid with uptime per window, and one service's page (checks, latency, changes).
import { useMemo } from "preact/hooks";
import { api } from "../api/client";
import { Badge, Empty, ErrorBox, Loading, PageHeader, Time } from "../app/ui";
import { useData, useInterval } from "../app/useData";
import { alignMatrix, type MatrixSeries } from "../chart/align";
import { Chart } from "../chart/Chart";
import { useLive } from "../live/socket";
import { formatValue } from "../lib/format";
import { stateRank, type Service } from "../overview/model";

const WINDOWS = ["24h", "7d", "30d", "1y"];

export function UptimeBars({ uptime }: { uptime: Record<string, number | null> }) {
  return (
    <div class="uptime" aria-label="Uptime">
      {WINDOWS.map((w) => {
        const v = uptime[w];
        const tone = v === null || v === undefined ? "muted" : v >= 99.9 ? "ok" : v >= 99 ? "warn" : "bad";
        return (
          <div key={w} class="uptime-cell" title={`${w}: ${v == null ? "no data" : v.toFixed(3) + " %"}`}>
            <span class={`uptime-bar tone-${tone}`} style={{ height: `${Math.max(8, v ?? 0) * 0.3}px` }} />
            <span class="small muted">
              {w} {v == null ? "—" : `${+v.toFixed(2)}%`}
            </span>
          </div>
        );
      })}
    </div>
  );
}

export function Services() {
  const services = useData(() => api.get<{ status: string; services: Service[] }>("/api/v1/health/services"));
  useLive("health", () => services.reload());
  useInterval(() => services.reload(), 15_000);
  const list = [...(services.data?.services ?? [])].sort((a, b) => stateRank(a.state) - stateRank(b.state) || a.name.localeCompare(b.name));
  return (
    <div class="page">
      <PageHeader title="Services">
        <a href="/checks">Checks</a>
      </PageHeader>
      <ErrorBox error={services.error} />
      {services.loading && !services.data ? (
        <Loading />
      ) : list.length === 0 ? (
        <Empty title="No services yet">
          A service appears when a check names it: <a href="/checks?new=1">add a check</a> with a service.
        </Empty>
      ) : (
        <div class="service-grid">
          {list.map((s) => (
            <a key={s.name} class={`card service-card state-${s.state}`} href={`/services/${encodeURIComponent(s.name)}`}>
              <div class="row">
                <Badge value={s.state} />
                <strong>{s.name}</strong>
                {s.in_maintenance && <Badge value="info" label="maintenance" />}
              </div>
              <div class="muted small">{s.last_error ?? s.description ?? ""}</div>
              <div class="small">{s.latency != null ? `latency ${formatValue(s.latency, "seconds")}` : ""}</div>
              <UptimeBars uptime={s.uptime} />
            </a>
          ))}
        </div>
      )}
    </div>
  );
}

export function ServicePage({ params }: { params: Record<string, string> }) {
  const name = params.name;
  const services = useData(() => api.get<{ services: Service[] }>("/api/v1/health/services"), [name]);
  useLive("health", () => services.reload());
  const service = services.data?.services.find((s) => s.name === name);
  const end = Math.floor(Date.now() / 1000);
  const latency = useData(
    () =>
      api.get<{ data: { result: MatrixSeries[] } }>("/prometheus/api/v1/query_range", {
        query: { query: `probe_duration_seconds{service="${name.replace(/"/g, '\\"')}"}`, start: end - 3600, end, step: 30 },
      }),
    [name],
  );
  const chart = useMemo(() => {
    const series = latency.data?.data.result ?? [];
    return { data: alignMatrix(series, end - 3600, end, 30), labels: series.map((s) => s.metric.check ?? s.metric.instance ?? name) };
  }, [latency.data]);
  return (
    <div class="page">
      <PageHeader title={`Service ${name}`}>{service && <Badge value={service.state} />}</PageHeader>
      <ErrorBox error={services.error} />
      {services.data && !service ? (
        <Empty title="No such service">
          <a href="/services">All services</a>
        </Empty>
      ) : service ? (
        <>
          <section class="card">
            <h2>Uptime</h2>
            <UptimeBars uptime={service.uptime} />
            {service.last_error && <p class="error">{service.last_error}</p>}
          </section>
          <section class="card">
            <h2>Checks</h2>
            <table class="table">
              <thead>
                <tr>
                  <th>Check</th>
                  <th>Type</th>
                  <th>State</th>
                  <th>Latency</th>
                  <th>Last run</th>
                </tr>
              </thead>
              <tbody>
                {service.checks.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <a href={`/checks/${c.id}`}>{c.name}</a>
                    </td>
                    <td>{c.type}</td>
                    <td>
                      <Badge value={c.state} />
                    </td>
                    <td>{c.latency != null ? formatValue(c.latency, "seconds") : "—"}</td>
                    <td>
                      <Time value={c.last_run_at} rel />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section class="card">
            <h2>Latency, last hour</h2>
            {chart.labels.length ? <Chart data={chart.data} labels={chart.labels} unit="seconds" height={220} /> : <Empty title="No latency samples yet">They arrive with the next check run.</Empty>}
            <a href={`/explore?${new URLSearchParams({ q: `probe_duration_seconds{service="${name}"}`, unit: "seconds" })}`}>Open in Explore</a>
          </section>
          <p>
            <a href={`/alerts?${new URLSearchParams({ q: `service="${name}"`, state: "all" })}`}>Alerts of this service</a>
          </p>
        </>
      ) : (
        <Loading />
      )}
    </div>
  );
}
