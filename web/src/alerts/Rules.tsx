// Rules: groups with health, last evaluation and errors; each rule's expression opens in Explore.
import { api } from "../api/client";
import { Badge, Empty, ErrorBox, Loading, PageHeader, Time } from "../app/ui";
import { useData, useInterval } from "../app/useData";
import { formatDuration } from "../lib/time";

export function Rules() {
  const rules = useData(() => api.get<{ data: { groups: any[] } }>("/prometheus/api/v1/rules"));
  useInterval(() => rules.reload(), 15_000);
  const groups = rules.data?.data.groups ?? [];
  return (
    <div class="page">
      <PageHeader title="Rules" />
      <ErrorBox error={rules.error} />
      {rules.loading && !rules.data ? (
        <Loading />
      ) : groups.length === 0 ? (
        <Empty title="No rules yet">
          Load Prometheus rule files with <code>rule_files:</code> in the configuration, or import a group with <code>POST /api/v1/alert-rules/groups</code>.
        </Empty>
      ) : (
        groups.map((g) => (
          <section class="card" key={g.name} aria-label={`Rule group ${g.name}`}>
            <h2>
              {g.name} <span class="muted small">every {formatDuration(g.interval)} · evaluated <Time value={g.lastEvaluation} rel /> in {formatDuration(g.evaluationTime)}</span>
            </h2>
            <table class="table">
              <thead>
                <tr>
                  <th>Rule</th>
                  <th>State</th>
                  <th>Health</th>
                  <th>Expression</th>
                  <th>Last evaluation</th>
                </tr>
              </thead>
              <tbody>
                {g.rules.map((r: any) => (
                  <tr key={r.name + r.query}>
                    <td>
                      {r.type === "alerting" ? (
                        <a href={`/alerts?${new URLSearchParams({ q: `alertname="${r.name}"`, state: "all" })}`}>{r.name}</a>
                      ) : (
                        <code>{r.name}</code>
                      )}
                      <div class="small muted">
                        {r.type}
                        {r.duration ? ` · for ${formatDuration(r.duration)}` : ""}
                        {r.labels?.severity ? ` · ${r.labels.severity}` : ""}
                      </div>
                    </td>
                    <td>{r.type === "alerting" ? <Badge value={r.state === "inactive" ? "ok" : r.state} label={r.state} /> : "—"}</td>
                    <td>
                      <Badge value={r.health === "ok" ? "ok" : r.health === "err" ? "error" : "unknown"} label={r.health} />
                      {r.lastError && <div class="small tone-text-bad">{r.lastError}</div>}
                    </td>
                    <td>
                      <a href={`/explore?${new URLSearchParams({ q: r.query })}`}>
                        <code>{r.query}</code>
                      </a>
                    </td>
                    <td>
                      <Time value={r.lastEvaluation} rel />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        ))
      )}
    </div>
  );
}
