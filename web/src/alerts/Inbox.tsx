// The alerts inbox: every alert (Nightowl's rules and those received on /api/v2/alerts) in one list,
// filtered and grouped from the URL, acted on from a side panel; it updates live.
import { useMemo, useState } from "preact/hooks";
import { api } from "../api/client";
import { can, useSession } from "../app/session";
import { Badge, Empty, ErrorBox, Loading, PageHeader, Time } from "../app/ui";
import { useData, useInterval } from "../app/useData";
import { useLive } from "../live/socket";
import { setQuery, useLocation } from "../lib/router";
import { groupRows, matchesFilter, silenceMatchers, sortAlerts, type Filter, type InboxAlert } from "./model";
import { VirtualList } from "./VirtualList";

const ROW = 58;

export function AlertsInbox() {
  const url = useLocation();
  const p = url.searchParams;
  const filter: Filter = { state: p.get("state") ?? "", severity: p.get("severity") ?? "", text: p.get("q") ?? "", ack: p.get("ack") ?? "" };
  const groupBy = p.get("group") ?? "";
  const focus = p.get("focus");
  const alerts = useData(() => api.get<{ items: InboxAlert[] }>("/api/v1/alerts"));
  useLive("alerts", () => alerts.reload());
  useInterval(() => alerts.reload(), 30_000);
  const all = alerts.data?.items ?? [];
  const shown = useMemo(() => sortAlerts(all.filter((a) => matchesFilter(a, filter))), [alerts.data, url.search]);
  const rows = useMemo(() => groupRows(shown, groupBy), [shown, groupBy]);
  const severities = [...new Set(all.map((a) => a.severity).filter(Boolean))].sort();
  const labelNames = [...new Set(all.flatMap((a) => Object.keys(a.labels)))].filter((k) => k !== "alertname").sort();
  const selected = focus ? all.find((a) => a.id === focus) : undefined;
  const [text, setText] = useState(filter.text);

  return (
    <div class={`page inbox ${selected ? "has-detail" : ""}`}>
      <PageHeader title="Alerts">
        <a href="/silences">Silences</a>
      </PageHeader>
      <form
        class="toolbar filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ q: text }, { replace: true });
        }}
      >
        <label>
          State
          <select value={filter.state} onChange={(e) => setQuery({ state: e.currentTarget.value }, { replace: true })}>
            <option value="">active</option>
            <option value="firing">firing</option>
            <option value="pending">pending</option>
            <option value="resolved">resolved</option>
            <option value="all">all</option>
          </select>
        </label>
        <label>
          Severity
          <select value={filter.severity} onChange={(e) => setQuery({ severity: e.currentTarget.value }, { replace: true })}>
            <option value="">any</option>
            {severities.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Acknowledged
          <select value={filter.ack} onChange={(e) => setQuery({ ack: e.currentTarget.value }, { replace: true })}>
            <option value="">either</option>
            <option value="unacked">not yet</option>
            <option value="acked">yes</option>
          </select>
        </label>
        <label>
          Group by
          <select value={groupBy} onChange={(e) => setQuery({ group: e.currentTarget.value }, { replace: true })}>
            <option value="">nothing</option>
            <option value="alertname">alertname</option>
            {labelNames.map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
        </label>
        <label class="grow">
          Labels or text
          <input type="search" placeholder='service="payments" or words' value={text} onInput={(e) => setText(e.currentTarget.value)} onBlur={() => setQuery({ q: text }, { replace: true })} />
        </label>
      </form>
      <ErrorBox error={alerts.error} />
      <div class="inbox-body">
        <div class="inbox-list">
          <div class="muted small list-count" aria-live="polite">
            {alerts.data ? `${shown.length} of ${all.length} alerts` : ""}
          </div>
          {alerts.loading && !alerts.data ? (
            <Loading />
          ) : shown.length === 0 ? (
            <Empty title={all.length ? "No alert matches these filters" : "No alerts: all quiet"}>
              {all.length ? (
                <a href="/alerts">Clear the filters</a>
              ) : (
                <>
                  Alerts of your <a href="/rules">rules</a> and those Prometheus sends to <code>/api/v2/alerts</code> appear here as they fire.
                </>
              )}
            </Empty>
          ) : (
            <VirtualList
              items={rows}
              rowHeight={ROW}
              height="calc(100vh - 250px)"
              label="Alerts"
              render={(row) =>
                row.kind === "group" ? (
                  <div class="group-row">
                    <code>{row.key}</code> <span class="muted">{row.count}</span>
                  </div>
                ) : (
                  <AlertRow alert={row.alert} selected={row.alert.id === focus} />
                )
              }
            />
          )}
        </div>
        {focus && (
          <aside class="inbox-detail card" aria-label="Alert details">
            {selected ? <AlertDetail alert={selected} onChange={alerts.reload} /> : alerts.data ? <Empty title="This alert is gone">It resolved and left the inbox. <a href="/alerts">Back to the list</a></Empty> : <Loading />}
          </aside>
        )}
      </div>
    </div>
  );
}

function AlertRow({ alert, selected }: { alert: InboxAlert; selected: boolean }) {
  const where = alert.labels.service ?? alert.labels.instance ?? alert.labels.job ?? "";
  const href = `${location.pathname}?${new URLSearchParams({ ...Object.fromEntries(new URLSearchParams(location.search)), focus: alert.id })}`;
  return (
    <a class={`alert-row ${selected ? "selected" : ""} state-${alert.state}`} href={href} aria-current={selected ? "true" : undefined} data-alert={alert.alertname}>
      <span class="sev">
        <Badge value={alert.severity || "none"} />
      </span>
      <span class="main">
        <span class="title">
          <strong>{alert.alertname || "(no alertname)"}</strong> {where && <span class="muted">{where}</span>}
          {alert.source === "received" && <span class="muted small"> · received</span>}
        </span>
        <span class="summary muted small">{alert.annotations.summary ?? alert.annotations.description ?? ""}</span>
      </span>
      <span class="meta small">
        <Badge value={alert.state} />
        {alert.acknowledged && <span class="ack" title={`acknowledged by ${alert.acknowledged.by}`}>✓ ack</span>}
        {alert.snoozed_until && <span class="muted">snoozed</span>}
        <Time value={alert.fired_at ?? alert.active_at} rel />
      </span>
    </a>
  );
}

const SNOOZES = ["30m", "1h", "4h", "1d"];

function AlertDetail({ alert, onChange }: { alert: InboxAlert; onChange: () => void }) {
  const { me } = useSession();
  const writer = can(me, "write");
  const [note, setNote] = useState("");
  const [snoozeFor, setSnoozeFor] = useState("1h");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const history = useData(() => api.get<{ items: any[] }>("/api/v1/alerts/history", { query: { fingerprint: alert.id, limit: 20 } }), [alert.id, alert.state, alert.acknowledged?.at]);
  const act = async (action: "acknowledge" | "snooze" | "resolve") => {
    setBusy(true);
    setError(null);
    try {
      const body = action === "snooze" ? { for: snoozeFor, note } : { note };
      await api.post(`/api/v1/alerts/{alert_id}/${action}` as "/api/v1/alerts/{alert_id}/acknowledge", { path: { alert_id: alert.id }, body });
      setNote("");
      onChange();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const silenceHref = `/silences/new?${new URLSearchParams({ matchers: silenceMatchers(alert.labels), comment: `silenced from alert ${alert.alertname}` })}`;
  const graphHref = alert.generator_url && !alert.generator_url.startsWith("http") ? alert.generator_url : null;
  return (
    <div class="detail">
      <div class="detail-head">
        <h2>{alert.alertname}</h2>
        <a href={location.pathname + "?" + new URLSearchParams([...new URLSearchParams(location.search)].filter(([k]) => k !== "focus"))} aria-label="Close details">
          ✕
        </a>
      </div>
      <p>
        <Badge value={alert.state} /> <Badge value={alert.severity || "none"} /> <span class="muted small">{alert.source === "received" ? "received on /api/v2/alerts" : `rule ${alert.rule}`}</span>
      </p>
      {alert.annotations.summary && <p>{alert.annotations.summary}</p>}
      {alert.annotations.description && <p class="muted">{alert.annotations.description}</p>}
      <dl class="facts">
        <dt>Active since</dt>
        <dd>
          <Time value={alert.active_at} />
        </dd>
        {alert.fired_at && (
          <>
            <dt>Firing since</dt>
            <dd>
              <Time value={alert.fired_at} />
            </dd>
          </>
        )}
        {alert.acknowledged && (
          <>
            <dt>Acknowledged</dt>
            <dd>
              by {alert.acknowledged.by} <Time value={alert.acknowledged.at} rel />
              {alert.acknowledged.note && <div class="note">“{alert.acknowledged.note}”</div>}
            </dd>
          </>
        )}
        {alert.snoozed_until && (
          <>
            <dt>Snoozed until</dt>
            <dd>
              <Time value={alert.snoozed_until} />
            </dd>
          </>
        )}
      </dl>
      <div class="labels" aria-label="Labels">
        {Object.keys(alert.labels)
          .sort()
          .map((k) => (
            <a key={k} class="label-chip" href={`/alerts?${new URLSearchParams({ q: `${k}="${alert.labels[k]}"`, state: "all" })}`} title="Show alerts with this label">
              {k}="{alert.labels[k]}"
            </a>
          ))}
      </div>
      {writer ? (
        <div class="actions-box">
          <label>
            Note
            <textarea rows={2} value={note} onInput={(e) => setNote(e.currentTarget.value)} placeholder="What you are doing about it" maxLength={2000} />
          </label>
          <div class="row wrap">
            <button class="primary" disabled={busy || !!alert.acknowledged || alert.state === "resolved"} onClick={() => act("acknowledge")}>
              Acknowledge
            </button>
            <span class="snooze">
              <select aria-label="Snooze for" value={snoozeFor} onChange={(e) => setSnoozeFor(e.currentTarget.value)}>
                {SNOOZES.map((s) => (
                  <option key={s}>{s}</option>
                ))}
              </select>
              <button disabled={busy || alert.state === "resolved"} onClick={() => act("snooze")}>
                Snooze
              </button>
            </span>
            <button disabled={busy || alert.state === "resolved"} onClick={() => act("resolve")}>
              Resolve
            </button>
            <a class="button" href={silenceHref}>
              Silence…
            </a>
          </div>
          <ErrorBox error={error} />
        </div>
      ) : (
        <p class="muted small">You can look but not act: acknowledging needs the editor role.</p>
      )}
      <p class="row wrap">
        <a href={`/explore?${new URLSearchParams({ q: `ALERTS{alertname="${alert.alertname}"}` })}`}>Graph of this alert</a>
        {graphHref && <a href={graphHref}>Source expression</a>}
      </p>
      <h3>History</h3>
      {history.data && history.data.items.length === 0 ? (
        <p class="muted small">No changes recorded yet.</p>
      ) : (
        <ol class="timeline">
          {(history.data?.items ?? []).map((h, i) => (
            <li key={i}>
              <Time value={h.at} /> <Badge value={h.to_state} /> {h.actor && <span class="muted small">by {h.actor}</span>} {h.note && <span class="note">“{h.note}”</span>}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
