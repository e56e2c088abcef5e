// Checks and heartbeats: list, create, edit, run now, delete; heartbeats show their ping URL to copy.
import { useState } from "preact/hooks";
import { api, ApiError } from "../api/client";
import { can, useSession } from "../app/session";
import { Badge, Empty, errorIsForField, ErrorBox, FieldError, Loading, PageHeader, Time } from "../app/ui";
import { useData, useInterval } from "../app/useData";
import { useLive } from "../live/socket";
import { formatValue } from "../lib/format";
import { navigate, useLocation } from "../lib/router";

const TYPES = ["http", "tcp", "dns", "tls", "postgres", "redis", "heartbeat"];
const TARGET_HINT: Record<string, string> = {
  http: "https://example.com/health",
  tcp: "db.internal:5432",
  dns: "example.com",
  tls: "example.com:443",
  postgres: "postgresql://user@host/db",
  redis: "redis://host:6379",
  heartbeat: "",
};

export interface CheckView {
  id: string;
  name: string;
  type: string;
  source: string;
  spec: Record<string, any>;
  state: { state: string; since: number | null; last_run_at: number | null; last_latency: number | null; last_error: string | null };
  ping_url?: string;
  heartbeat?: { status: string; reason: string; next_due: number | null };
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="small"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
        } catch {
          /* no clipboard (http): the text is selectable next to the button */
        }
        setDone(true);
        setTimeout(() => setDone(false), 1500);
      }}
    >
      {done ? "Copied" : label}
    </button>
  );
}

export function Checks() {
  const { me } = useSession();
  const url = useLocation();
  const checks = useData(() => api.get<{ checks: CheckView[] }>("/api/v1/checks"));
  useLive("health", () => checks.reload());
  useInterval(() => checks.reload(), 10_000);
  const creating = url.searchParams.get("new") === "1";
  const list = checks.data?.checks ?? [];
  return (
    <div class="page">
      <PageHeader title="Checks">
        {can(me, "write") && !creating && (
          <a class="button primary" href="/checks?new=1">
            New check
          </a>
        )}
      </PageHeader>
      {creating && (
        <CheckForm
          onSaved={(c) => {
            checks.reload();
            navigate(`/checks/${c.id}`);
          }}
          onCancel={() => navigate("/checks")}
        />
      )}
      <ErrorBox error={checks.error} />
      {checks.loading && !checks.data ? (
        <Loading />
      ) : list.length === 0 ? (
        <Empty title="No checks yet">
          {can(me, "write") ? <a href="/checks?new=1">Add one</a> : "An editor can add one"}: an HTTP endpoint, a TCP port, a certificate, or a heartbeat your cron job pings.
        </Empty>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th>Check</th>
              <th>Type</th>
              <th>State</th>
              <th>Service</th>
              <th>Latency</th>
              <th>Last run</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {list.map((c) => (
              <tr key={c.id}>
                <td>
                  <a href={`/checks/${c.id}`}>{c.name}</a>
                </td>
                <td>{c.type}</td>
                <td>
                  <Badge value={c.state.state} />
                </td>
                <td>{c.spec.service ? <a href={`/services/${encodeURIComponent(c.spec.service)}`}>{c.spec.service}</a> : <span class="muted">—</span>}</td>
                <td>{c.state.last_latency != null ? formatValue(c.state.last_latency, "seconds") : "—"}</td>
                <td>
                  <Time value={c.state.last_run_at} rel />
                </td>
                <td class="small muted">{c.state.last_error ?? c.heartbeat?.reason ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function CheckForm({ initial, onSaved, onCancel }: { initial?: CheckView; onSaved: (c: CheckView) => void; onCancel: () => void }) {
  const spec = initial?.spec ?? {};
  const [name, setName] = useState<string>(spec.name ?? "");
  const [type, setType] = useState<string>(spec.type ?? "http");
  const [target, setTarget] = useState<string>(spec.target ?? "");
  const [interval, setInterval] = useState<string>(String(spec.interval ?? 60));
  const [timeout, setTimeoutValue] = useState<string>(String(spec.timeout ?? 10));
  const [service, setService] = useState<string>(spec.service ?? "");
  const [period, setPeriod] = useState<string>(spec.period != null ? String(spec.period) : "300");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body: Record<string, unknown> = { ...(initial ? stripState(spec) : {}), name, type, interval: Number(interval), timeout: Number(timeout), service: service || null };
    if (type === "heartbeat") {
      body.period = Number(period);
      body.target = "";
    } else body.target = target;
    try {
      const saved = initial
        ? await api.put<CheckView>("/api/v1/checks/{check_id}", { path: { check_id: initial.id }, body })
        : await api.post<CheckView>("/api/v1/checks", { body });
      onSaved(saved);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fields = ["name", "type", "target", "interval", "timeout", "service", "period"];
  return (
    <form class="card form" onSubmit={submit} aria-label={initial ? "Edit check" : "New check"}>
      <h2>{initial ? `Edit ${initial.name}` : "New check"}</h2>
      <div class="row wrap">
        <label>
          Name
          <input name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <FieldError error={error} field="name" />
        </label>
        <label>
          Type
          <select name="type" value={type} onChange={(e) => setType(e.currentTarget.value)} disabled={!!initial}>
            {TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
      </div>
      {type !== "heartbeat" ? (
        <label>
          Target
          <input name="target" required value={target} placeholder={TARGET_HINT[type]} onInput={(e) => setTarget(e.currentTarget.value)} />
          <FieldError error={error} field="target" />
        </label>
      ) : (
        <label>
          Expected every (seconds)
          <input name="period" class="narrow" type="number" min="1" value={period} onInput={(e) => setPeriod(e.currentTarget.value)} />
          <FieldError error={error} field="period" />
        </label>
      )}
      <div class="row wrap">
        <label>
          Interval (s)
          <input name="interval" class="narrow" type="number" step="any" value={interval} onInput={(e) => setInterval(e.currentTarget.value)} />
          <FieldError error={error} field="interval" />
        </label>
        <label>
          Timeout (s)
          <input name="timeout" class="narrow" type="number" step="any" value={timeout} onInput={(e) => setTimeoutValue(e.currentTarget.value)} />
          <FieldError error={error} field="timeout" />
        </label>
        <label>
          Service
          <input name="service" value={service} placeholder="optional" onInput={(e) => setService(e.currentTarget.value)} />
          <FieldError error={error} field="service" />
        </label>
      </div>
      {!errorIsForField(error, fields) && <ErrorBox error={error} />}
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          {initial ? "Save" : "Create check"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function stripState(spec: Record<string, any>): Record<string, any> {
  const out = { ...spec };
  for (const [k, v] of Object.entries(out)) if (typeof v === "string" && v.includes("•")) delete out[k];
  return out;
}

export function CheckPage({ params }: { params: Record<string, string> }) {
  const { me } = useSession();
  const check = useData(() => api.get<CheckView>("/api/v1/checks/{check_id}", { path: { check_id: params.id } }), [params.id]);
  const transitions = useData(() => api.get<{ transitions?: any[]; items?: any[] }>("/api/v1/checks/{check_id}/transitions", { path: { check_id: params.id }, query: { limit: 20 } }), [params.id]);
  useLive("health", () => {
    check.reload();
    transitions.reload();
  });
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [ran, setRan] = useState<any>(null);
  const [busy, setBusy] = useState(false);
  const c = check.data;
  const runNow = async () => {
    setBusy(true);
    setError(null);
    try {
      setRan(await api.post("/api/v1/checks/{check_id}/run", { path: { check_id: params.id } }));
      check.reload();
      transitions.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    if (!c || !confirm(`Delete the check ${c.name} and its history?`)) return;
    try {
      await api.del("/api/v1/checks/{check_id}", { path: { check_id: params.id } });
      navigate("/checks");
    } catch (e) {
      setError(e);
    }
  };
  if (check.error instanceof ApiError && check.error.status === 404)
    return (
      <div class="page">
        <Empty title="No such check">
          <a href="/checks">All checks</a>
        </Empty>
      </div>
    );
  if (!c) return <Loading />;
  const writer = can(me, "write") && c.source !== "config";
  const rows = transitions.data?.transitions ?? transitions.data?.items ?? [];
  return (
    <div class="page">
      <PageHeader title={c.name}>
        <Badge value={c.state.state} />
        {can(me, "write") && c.type !== "heartbeat" && (
          <button class="primary" onClick={runNow} disabled={busy}>
            {busy ? "Running…" : "Run now"}
          </button>
        )}
        {writer && <button onClick={() => setEditing(!editing)}>Edit</button>}
        {writer && <button onClick={remove}>Delete</button>}
      </PageHeader>
      {c.source === "config" && <p class="muted small">Defined in the configuration file: edit it there.</p>}
      <ErrorBox error={error} />
      {editing && (
        <CheckForm
          initial={c}
          onSaved={() => {
            setEditing(false);
            check.reload();
          }}
          onCancel={() => setEditing(false)}
        />
      )}
      {ran && (
        <div class="card run-result" role="status">
          Ran just now: <Badge value={ran.result.outcome ?? ran.state.state} /> {ran.result.latency != null && formatValue(ran.result.latency, "seconds")} {ran.result.error && <span class="muted">{ran.result.error}</span>}
        </div>
      )}
      <section class="card">
        <dl class="facts">
          <dt>Type</dt>
          <dd>{c.type}</dd>
          {c.spec.target && (
            <>
              <dt>Target</dt>
              <dd>
                <code>{c.spec.target}</code>
              </dd>
            </>
          )}
          <dt>Every</dt>
          <dd>{c.spec.interval} s</dd>
          <dt>Service</dt>
          <dd>{c.spec.service ? <a href={`/services/${encodeURIComponent(c.spec.service)}`}>{c.spec.service}</a> : "—"}</dd>
          <dt>State since</dt>
          <dd>
            <Time value={c.state.since} />
          </dd>
          <dt>Last run</dt>
          <dd>
            <Time value={c.state.last_run_at} /> {c.state.last_latency != null && `(${formatValue(c.state.last_latency, "seconds")})`}
          </dd>
          {c.state.last_error && (
            <>
              <dt>Last error</dt>
              <dd class="tone-text-bad">{c.state.last_error}</dd>
            </>
          )}
          {c.ping_url && (
            <>
              <dt>Ping URL</dt>
              <dd>
                <code class="ping-url">{c.ping_url}</code> <CopyButton text={c.ping_url} />
                <div class="muted small">
                  Add to the end of your job: <code>curl -fsS -m 10 {c.ping_url}</code>
                  {c.heartbeat && ` · ${c.heartbeat.reason}`}
                </div>
              </dd>
            </>
          )}
        </dl>
      </section>
      <section class="card">
        <h2>Changes of state</h2>
        {rows.length === 0 ? (
          <p class="muted">No changes yet.</p>
        ) : (
          <ol class="timeline">
            {rows.map((t: any, i: number) => (
              <li key={i}>
                <Time value={t.at} /> {t.previous} → <Badge value={t.state} /> <span class="muted small">{t.reason}</span>
              </li>
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}
