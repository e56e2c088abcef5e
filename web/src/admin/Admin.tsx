// Admin: users and roles, API keys (the secret shown once, with a copy button), the audit log, workers.
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { Badge, Empty, errorIsForField, ErrorBox, FieldError, Loading, PageHeader, Time } from "../app/ui";
import { useData, useInterval } from "../app/useData";
import { CopyButton } from "../health/Checks";
import { formatDuration } from "../lib/time";

const TABS = [
  ["/admin/users", "Users"],
  ["/admin/keys", "API keys"],
  ["/admin/audit", "Audit log"],
  ["/admin/workers", "Workers"],
];

function Tabs({ current }: { current: string }) {
  return (
    <nav class="tabs" aria-label="Admin sections">
      {TABS.map(([href, label]) => (
        <a key={href} href={href} aria-current={current === href ? "page" : undefined}>
          {label}
        </a>
      ))}
    </nav>
  );
}

export function Users() {
  const users = useData(() => api.get<{ items: any[] }>("/api/v1/users"));
  const [form, setForm] = useState({ username: "", password: "", role: "viewer" });
  const [error, setError] = useState<unknown>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await api.post("/api/v1/users", { body: form });
      setForm({ username: "", password: "", role: "viewer" });
      users.reload();
    } catch (err) {
      setError(err);
    }
  };
  const update = async (id: string, body: Record<string, unknown>) => {
    try {
      await api.patch("/api/v1/users/{user_id}", { path: { user_id: id }, body });
      users.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div class="page">
      <PageHeader title="Admin" />
      <Tabs current="/admin/users" />
      <ErrorBox error={users.error} />
      {users.loading && !users.data ? (
        <Loading />
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
              <th>Status</th>
              <th>Created</th>
              <th>
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(users.data?.items ?? []).map((u) => (
              <tr key={u.id}>
                <td>{u.username}</td>
                <td>
                  <select aria-label={`Role of ${u.username}`} value={u.role} onChange={(e) => update(u.id, { role: e.currentTarget.value })}>
                    <option>viewer</option>
                    <option>editor</option>
                    <option>admin</option>
                  </select>
                </td>
                <td>{u.disabled ? <Badge value="unknown" label="disabled" /> : <Badge value="ok" label="active" />}</td>
                <td>
                  <Time value={u.created_at} />
                </td>
                <td>
                  <button class="small" onClick={() => update(u.id, { disabled: !u.disabled })}>
                    {u.disabled ? "Enable" : "Disable"}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form class="card form" onSubmit={create} aria-label="New user">
        <h2>New user</h2>
        <div class="row wrap">
          <label>
            Username
            <input name="username" required value={form.username} onInput={(e) => setForm({ ...form, username: e.currentTarget.value })} />
            <FieldError error={error} field="username" />
          </label>
          <label>
            Password
            <input name="password" type="password" autoComplete="new-password" required value={form.password} onInput={(e) => setForm({ ...form, password: e.currentTarget.value })} />
            <FieldError error={error} field="password" />
          </label>
          <label>
            Role
            <select name="role" value={form.role} onChange={(e) => setForm({ ...form, role: e.currentTarget.value })}>
              <option>viewer</option>
              <option>editor</option>
              <option>admin</option>
            </select>
          </label>
        </div>
        {!errorIsForField(error, ["username", "password"]) && <ErrorBox error={error} />}
        <div>
          <button type="submit" class="primary">
            Create user
          </button>
        </div>
      </form>
    </div>
  );
}

const SCOPES = ["read", "write", "ingest", "admin"];

export function Keys() {
  const keys = useData(() => api.get<{ items: any[] }>("/api/v1/keys"));
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>(["read"]);
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const answer = await api.post<{ name: string; key: string }>("/api/v1/keys", { body: { name, scopes } });
      setCreated(answer);
      setName("");
      keys.reload();
    } catch (err) {
      setError(err);
    }
  };
  const act = async (id: string, action: "revoke" | "rotate") => {
    try {
      if (action === "revoke") await api.del("/api/v1/keys/{key_id}", { path: { key_id: id } });
      else setCreated(await api.post("/api/v1/keys/{key_id}/rotate", { path: { key_id: id } }));
      keys.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div class="page">
      <PageHeader title="Admin" />
      <Tabs current="/admin/keys" />
      {created && (
        <div class="card key-once" role="status">
          <strong>Key {created.name}: copy it now, it is shown only this once.</strong>
          <div class="row">
            <code class="secret">{created.key}</code> <CopyButton text={created.key} />
            <button class="small" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      <ErrorBox error={keys.error} />
      {keys.data && keys.data.items.length === 0 ? (
        <Empty title="No API keys yet">Create one below for Prometheus remote write, Grafana or a script.</Empty>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Scopes</th>
              <th>Created</th>
              <th>Last used</th>
              <th>Status</th>
              <th>
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(keys.data?.items ?? []).map((k) => (
              <tr key={k.id}>
                <td>
                  {k.name} <span class="muted small">{k.prefix}</span>
                </td>
                <td>{(k.scopes ?? []).join(", ")}</td>
                <td>
                  <Time value={k.created_at} />
                </td>
                <td>
                  <Time value={k.last_used_at} rel />
                </td>
                <td>{k.revoked_at ? <Badge value="unknown" label="revoked" /> : <Badge value="ok" label="active" />}</td>
                <td class="row">
                  {!k.revoked_at && (
                    <>
                      <button class="small" onClick={() => act(k.id, "rotate")}>
                        Rotate
                      </button>
                      <button class="small" onClick={() => act(k.id, "revoke")}>
                        Revoke
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form class="card form" onSubmit={create} aria-label="New API key">
        <h2>New API key</h2>
        <label>
          Name
          <input name="name" required value={name} placeholder="prometheus-eu" onInput={(e) => setName(e.currentTarget.value)} />
          <FieldError error={error} field="name" />
        </label>
        <fieldset class="row">
          <legend>Scopes</legend>
          {SCOPES.map((s) => (
            <label class="check" key={s}>
              <input type="checkbox" checked={scopes.includes(s)} onChange={(e) => setScopes(e.currentTarget.checked ? [...scopes, s] : scopes.filter((x) => x !== s))} /> {s}
            </label>
          ))}
        </fieldset>
        <FieldError error={error} field="scopes" />
        {!errorIsForField(error, ["name", "scopes"]) && <ErrorBox error={error} />}
        <div>
          <button type="submit" class="primary">
            Create key
          </button>
        </div>
      </form>
    </div>
  );
}

export function Audit() {
  const [cursor, setCursor] = useState<number | null>(null);
  const audit = useData(() => api.get<{ items: any[]; next_cursor: number | null }>("/api/v1/audit", { query: { limit: 50, cursor: cursor ?? undefined } }), [cursor]);
  return (
    <div class="page">
      <PageHeader title="Admin" />
      <Tabs current="/admin/audit" />
      <ErrorBox error={audit.error} />
      {audit.loading && !audit.data ? (
        <Loading />
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>What</th>
              <th>Object</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {(audit.data?.items ?? []).map((a) => (
              <tr key={a.id}>
                <td>
                  <Time value={a.ts} />
                </td>
                <td>{a.actor}</td>
                <td>
                  <code>{a.action}</code>
                </td>
                <td class="small">
                  {a.object_type} {a.object_id}
                </td>
                <td class="small muted">{a.detail ? JSON.stringify(a.detail) : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="row">
        {cursor !== null && <button onClick={() => setCursor(null)}>Newest</button>}
        {audit.data?.next_cursor != null && <button onClick={() => setCursor(audit.data!.next_cursor)}>Older</button>}
      </div>
    </div>
  );
}

export function Workers() {
  const workers = useData(() => api.get<{ scheduler_running: boolean; jobs: any[] }>("/api/v1/workers"));
  useInterval(() => workers.reload(), 5000);
  return (
    <div class="page">
      <PageHeader title="Admin">{workers.data && <Badge value={workers.data.scheduler_running ? "up" : "down"} label={workers.data.scheduler_running ? "scheduler running" : "scheduler stopped"} />}</PageHeader>
      <Tabs current="/admin/workers" />
      <ErrorBox error={workers.error} />
      <table class="table">
        <thead>
          <tr>
            <th>Job</th>
            <th>Schedule</th>
            <th class="num">Runs</th>
            <th class="num">Failures</th>
            <th>Last run</th>
            <th class="num">Duration</th>
            <th>Last error</th>
          </tr>
        </thead>
        <tbody>
          {(workers.data?.jobs ?? []).map((j) => (
            <tr key={j.name}>
              <td title={j.description}>
                <code>{j.name}</code>
              </td>
              <td>{j.schedule}</td>
              <td class="num">{j.runs}</td>
              <td class="num">{j.failures}</td>
              <td>
                <Time value={j.last_run} rel />
              </td>
              <td class="num">{j.last_duration != null ? formatDuration(j.last_duration) : "—"}</td>
              <td class="small tone-text-bad">{j.last_error ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
