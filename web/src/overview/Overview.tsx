// Home: what is broken right now, worst first; every figure links to the page that explains it.
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api/client";
import { Badge, Empty, ErrorBox, Loading, PageHeader, Time } from "../app/ui";
import { useData, useInterval } from "../app/useData";
import { useLive } from "../live/socket";
import { formatValue } from "../lib/format";
import { SEVERITY_ORDER, stateRank, type Service } from "./model";

interface Stats {
  series: number;
  names: number;
  samples_ingested: Record<string, number>;
}

export function Overview() {
  const services = useData(() => api.get<{ status: string; services: Service[] }>("/api/v1/health/services"));
  const alerts = useData(() => api.get<{ items: any[] }>("/api/v1/alerts"));
  const history = useData(() => api.get<{ items: any[] }>("/api/v1/alerts/history", { query: { limit: 8 } }));
  const targets = useData(() => api.get<{ data: { activeTargets: any[] } }>("/prometheus/api/v1/targets", { query: { state: "active" } }));
  const stats = useData(() => api.get<Stats>("/api/v1/metrics/stats"));
  const last = useRef<{ at: number; total: number } | null>(null);
  const [rate, setRate] = useState<number | null>(null);
  if (stats.data) {
    const total = Object.values(stats.data.samples_ingested).reduce((a, b) => a + b, 0);
    const now = performance.now();
    const prev = last.current;
    if (!prev || prev.total !== total) {
      if (prev && now > prev.at) {
        const r = ((total - prev.total) * 1000) / (now - prev.at);
        if (r !== rate) setTimeout(() => setRate(r), 0);
      }
      last.current = { at: now, total };
    }
  }
  useEffect(() => {
    const first = setTimeout(() => stats.reload(), 1000); // a second reading gives the rate
    return () => clearTimeout(first);
  }, []);
  useInterval(() => {
    stats.reload();
    targets.reload();
    services.reload();
  }, 10_000);
  useLive("alerts", () => {
    alerts.reload();
    history.reload();
  });
  useLive("health", () => services.reload());

  const svc = [...(services.data?.services ?? [])].sort((a, b) => stateRank(a.state) - stateRank(b.state) || a.name.localeCompare(b.name));
  const counts = { up: 0, degraded: 0, down: 0, unknown: 0 } as Record<string, number>;
  svc.forEach((s) => (counts[s.state] = (counts[s.state] ?? 0) + 1));
  const firing = (alerts.data?.items ?? []).filter((a) => a.state === "firing");
  const bySeverity = new Map<string, number>();
  firing.forEach((a) => bySeverity.set(a.severity || "none", (bySeverity.get(a.severity || "none") ?? 0) + 1));
  const severities = [...bySeverity.entries()].sort((a, b) => (SEVERITY_ORDER[a[0]] ?? 9) - (SEVERITY_ORDER[b[0]] ?? 9));
  const active = targets.data?.data.activeTargets ?? [];
  const down = active.filter((t) => t.health !== "up");

  return (
    <div class="page">
      <PageHeader title="Overview">
        {services.data && <Badge value={services.data.status === "healthy" ? "up" : services.data.status === "degraded" ? "degraded" : "down"} label={services.data.status} />}
      </PageHeader>
      <section class="tiles" aria-label="Summary">
        <a class="tile" href="/services">
          <span class="tile-label">Services</span>
          <span class="tile-value tile-small">
            <span class="tone-text-ok">{counts.up} up</span> · <span class="tone-text-warn">{counts.degraded} degraded</span> · <span class="tone-text-bad">{counts.down} down</span>
          </span>
        </a>
        <a class="tile" href="/alerts?state=firing">
          <span class="tile-label">Firing alerts</span>
          <span class={`tile-value ${firing.length ? "tone-text-bad" : ""}`}>{alerts.data ? firing.length : "…"}</span>
        </a>
        <a class="tile" href="/targets">
          <span class="tile-label">Targets down</span>
          <span class={`tile-value ${down.length ? "tone-text-bad" : ""}`}>{targets.data ? `${down.length} of ${active.length}` : "…"}</span>
        </a>
        <a class="tile" data-rate href="/explore?q=sum%20by%20(job)%20(scrape_samples_scraped)">
          <span class="tile-label">Ingest rate</span>
          <span class="tile-value">{rate === null ? "measuring…" : `${formatValue(rate)} samples/s`}</span>
        </a>
        <a class="tile" href="/explore/metrics">
          <span class="tile-label">Active series</span>
          <span class="tile-value">{stats.data ? formatValue(stats.data.series) : "…"}</span>
        </a>
      </section>

      <div class="grid-2">
        <section class="card" aria-labelledby="ov-services">
          <h2 id="ov-services">
            <a href="/services">Services</a>
          </h2>
          <ErrorBox error={services.error} />
          {services.loading && !services.data ? (
            <Loading />
          ) : svc.length === 0 ? (
            <Empty title="No services yet">
              Add a check with a <code>service</code> on the <a href="/checks">checks page</a>.
            </Empty>
          ) : (
            <ul class="service-list">
              {svc.slice(0, 12).map((s) => (
                <li key={s.name}>
                  <Badge value={s.state} />
                  <a href={`/services/${encodeURIComponent(s.name)}`}>{s.name}</a>
                  <span class="muted small">{s.last_error ?? (s.latency != null ? `${formatValue(s.latency, "seconds")}` : "")}</span>
                </li>
              ))}
              {svc.length > 12 && (
                <li>
                  <a href="/services">all {svc.length} services →</a>
                </li>
              )}
            </ul>
          )}
        </section>

        <section class="card" aria-labelledby="ov-alerts">
          <h2 id="ov-alerts">
            <a href="/alerts">Firing alerts</a>
          </h2>
          <ErrorBox error={alerts.error} />
          {severities.length > 0 && (
            <p class="severity-row">
              {severities.map(([sev, n]) => (
                <a key={sev} href={`/alerts?state=firing&severity=${encodeURIComponent(sev === "none" ? "" : sev)}`}>
                  <Badge value={sev} label={`${n} ${sev}`} />
                </a>
              ))}
            </p>
          )}
          {alerts.data && firing.length === 0 ? (
            <Empty title="Nothing is firing">
              Rules are evaluated all the time; see them on the <a href="/rules">rules page</a>.
            </Empty>
          ) : (
            <ul class="alert-list-compact">
              {firing.slice(0, 8).map((a) => (
                <li key={a.id}>
                  <Badge value={a.severity || "none"} />
                  <a href={`/alerts?focus=${a.id}`}>{a.alertname}</a>
                  <span class="muted small">{a.annotations?.summary}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>

      <section class="card" aria-labelledby="ov-incidents">
        <h2 id="ov-incidents">
          <a href="/alerts?view=history">Recent incidents</a>
        </h2>
        <ErrorBox error={history.error} />
        {history.data && history.data.items.length === 0 ? (
          <Empty title="No alert has changed state yet">Incidents appear here when an alert starts firing or resolves.</Empty>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th>When</th>
                <th>Alert</th>
                <th>Change</th>
              </tr>
            </thead>
            <tbody>
              {(history.data?.items ?? []).map((h, i) => (
                <tr key={i}>
                  <td>
                    <Time value={h.at} />
                  </td>
                  <td>
                    <a href={`/alerts?alertname=${encodeURIComponent(h.alertname ?? "")}`}>{h.alertname}</a>
                  </td>
                  <td>
                    {h.from_state ?? h.previous ?? ""} → <Badge value={h.to_state ?? h.state ?? ""} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {(targets.error || stats.error) && <ErrorBox error={targets.error || stats.error} />}
    </div>
  );
}
