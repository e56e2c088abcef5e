// Maintenance windows: list with whether each is active, create a one-off window (start + end or duration), delete.
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { can, useSession } from "../app/session";
import { Badge, Empty, errorIsForField, ErrorBox, FieldError, Loading, PageHeader, Time } from "../app/ui";
import { useData } from "../app/useData";
import { navigate, useLocation } from "../lib/router";

export interface MaintenanceView {
  id: string;
  name: string;
  starts_at: number;
  ends_at: number | null;
  cron: string | null;
  duration: number | null;
  services: string[];
  checks: string[];
  note: string;
  active: boolean;
  next: { starts_at: number; ends_at: number } | null;
}

/** "2h", "90m", "1d" or plain seconds, as seconds; null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(text);
  if (!m) return null;
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "" | "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit;
}

/** A `datetime-local` input's value for a Unix time, in the browser's zone. */
function localInput(unix: number): string {
  const d = new Date(unix * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function Maintenance() {
  const { me } = useSession();
  const url = useLocation();
  const windows = useData(() => api.get<{ windows: MaintenanceView[] }>("/api/v1/health/maintenance"));
  const [error, setError] = useState<unknown>(null);
  const creating = url.searchParams.get("new") === "1";
  const list = windows.data?.windows ?? [];
  const editor = can(me, "write");
  const remove = async (w: MaintenanceView) => {
    if (!confirm(`Delete the maintenance window ${w.name}?`)) return;
    setError(null);
    try {
      await api.del("/api/v1/health/maintenance/{window_id}", { path: { window_id: w.id } });
      windows.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="page">
      <PageHeader title="Maintenance">
        {editor && !creating && (
          <a class="button primary" href="/maintenance?new=1">
            New window
          </a>
        )}
      </PageHeader>
      {creating && (
        <MaintenanceForm
          onSaved={() => {
            windows.reload();
            navigate("/maintenance");
          }}
          onCancel={() => navigate("/maintenance")}
        />
      )}
      <ErrorBox error={windows.error ?? error} />
      {windows.loading && !windows.data ? (
        <Loading />
      ) : list.length === 0 ? (
        <Empty title="No maintenance windows">
          {editor ? <a href="/maintenance?new=1">Plan one</a> : "An editor can plan one"}: checks in a window run, but their failures alert nobody.
        </Empty>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th>Window</th>
              <th>State</th>
              <th>Starts</th>
              <th>Ends</th>
              <th>Covers</th>
              <th>Note</th>
              {editor && <th>Actions</th>}
            </tr>
          </thead>
          <tbody>
            {list.map((w) => (
              <tr key={w.id}>
                <td>{w.name}</td>
                <td>{w.active ? <Badge value="warning" label="active" /> : w.next ? <Badge value="info" label="planned" /> : <Badge value="expired" label="over" />}</td>
                <td>
                  <Time value={w.cron ? (w.next?.starts_at ?? w.starts_at) : w.starts_at} />
                  {w.cron && <div class="small muted">every {w.cron}</div>}
                </td>
                <td>
                  <Time value={w.cron ? (w.next?.ends_at ?? w.ends_at) : w.ends_at} />
                </td>
                <td class="small">{[...w.services, ...w.checks].join(", ") || <span class="muted">all services</span>}</td>
                <td class="small muted">{w.note}</td>
                {editor && (
                  <td>
                    <button type="button" class="small" onClick={() => remove(w)} aria-label={`Delete ${w.name}`}>
                      Delete
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function MaintenanceForm({ onSaved, onCancel }: { onSaved: () => void; onCancel: () => void }) {
  const now = Math.floor(Date.now() / 60_000) * 60;
  const [name, setName] = useState("");
  const [start, setStart] = useState(localInput(now));
  const [until, setUntil] = useState<"duration" | "end">("duration");
  const [duration, setDuration] = useState("1h");
  const [end, setEnd] = useState(localInput(now + 3600));
  const [services, setServices] = useState("");
  const [note, setNote] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const startsAt = new Date(start).getTime() / 1000;
    let endsAt = new Date(end).getTime() / 1000;
    if (until === "duration") {
      const seconds = parseDuration(duration);
      if (seconds === null || seconds <= 0) {
        setError(new Error(`duration ${JSON.stringify(duration)} is not a duration such as 30m, 2h or 1d`));
        return;
      }
      endsAt = startsAt + seconds;
    }
    const names = services
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    setBusy(true);
    try {
      await api.post("/api/v1/health/maintenance", { body: { name, starts_at: startsAt, ends_at: endsAt, services: names, note } });
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fields = ["name", "starts_at", "ends_at", "services", "note"];
  return (
    <form class="card form" onSubmit={submit} aria-label="New maintenance window">
      <h2>New maintenance window</h2>
      <label>
        Name
        <input name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <FieldError error={error} field="name" />
      </label>
      <div class="row wrap">
        <label>
          Starts
          <input name="starts_at" type="datetime-local" required value={start} onInput={(e) => setStart(e.currentTarget.value)} />
          <FieldError error={error} field="starts_at" />
        </label>
        <label>
          Lasts
          <select name="until" value={until} onChange={(e) => setUntil(e.currentTarget.value as "duration" | "end")}>
            <option value="duration">for a duration</option>
            <option value="end">until a time</option>
          </select>
        </label>
        {until === "duration" ? (
          <label>
            Duration
            <input name="duration" class="narrow" required value={duration} placeholder="2h" onInput={(e) => setDuration(e.currentTarget.value)} />
          </label>
        ) : (
          <label>
            Ends
            <input name="ends_at" type="datetime-local" required value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
            <FieldError error={error} field="ends_at" />
          </label>
        )}
      </div>
      <label>
        Services
        <input name="services" value={services} placeholder="comma-separated; empty means all" onInput={(e) => setServices(e.currentTarget.value)} />
        <FieldError error={error} field="services" />
      </label>
      <label>
        Note
        <input name="note" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      </label>
      {!errorIsForField(error, fields) && <ErrorBox error={error} />}
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          Create window
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
