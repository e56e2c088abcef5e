// Escalation policies: who is paged in which order until someone acknowledges; list, create, edit, delete.
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { can, useSession } from "../app/session";
import { Empty, errorIsForField, ErrorBox, FieldError, Loading, PageHeader } from "../app/ui";
import { useData } from "../app/useData";
import { navigate, useLocation } from "../lib/router";
import { NotificationTabs } from "./Tabs";

interface Level {
  receivers: string[];
  delay: string | number;
}
interface Policy {
  id: string;
  name: string;
  matchers: string;
  levels: Level[];
  repeat: number;
  auto_resolve: boolean;
}

function delayText(d: string | number): string {
  if (typeof d !== "number") return d;
  if (d > 0 && d % 3600 === 0) return `${d / 3600}h`;
  if (d > 0 && d % 60 === 0) return `${d / 60}m`;
  return `${d}s`;
}

export function Escalations() {
  const { me } = useSession();
  const url = useLocation();
  const policies = useData(() => api.get<Policy[]>("/api/v1/escalation-policies"));
  const [error, setError] = useState<unknown>(null);
  const writer = can(me, "write");
  const creating = url.searchParams.get("new") === "1";
  const editId = url.searchParams.get("edit");
  const editing = editId ? policies.data?.find((p) => p.id === editId) : undefined;
  const done = () => {
    policies.reload();
    navigate("/notifications/escalations");
  };
  const remove = async (p: Policy) => {
    if (!confirm(`Delete the escalation policy ${p.name}?`)) return;
    setError(null);
    try {
      await api.del("/api/v1/escalation-policies/{policy_id}", { path: { policy_id: p.id } });
      policies.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="page">
      <PageHeader title="Escalation policies">
        {writer && !creating && (
          <a class="button primary" href="/notifications/escalations?new=1">
            New policy
          </a>
        )}
      </PageHeader>
      <NotificationTabs path="/notifications/escalations" />
      {writer && creating && <PolicyForm onSaved={done} onCancel={() => navigate("/notifications/escalations")} />}
      {writer && editing && <PolicyForm key={editing.id} initial={editing} onSaved={done} onCancel={() => navigate("/notifications/escalations")} />}
      <ErrorBox error={policies.error || error} />
      {policies.loading && !policies.data ? (
        <Loading />
      ) : !policies.data?.length ? (
        <Empty title="No escalation policies yet">
          {writer ? <a href="/notifications/escalations?new=1">Add one</a> : "An editor can add one"}: page the on-call receiver first, then the next level when nobody acknowledges in time.
        </Empty>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Alerts</th>
              <th>Levels</th>
              <th>Repeat</th>
              <th>Auto-resolve</th>
              <th>
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {policies.data.map((p) => (
              <tr key={p.id}>
                <td>{p.name}</td>
                <td>
                  <code>{p.matchers}</code>
                </td>
                <td>
                  <ol class="levels">
                    {p.levels.map((l, i) => (
                      <li key={i}>
                        {l.receivers.join(", ")} <span class="muted">after {delayText(l.delay)}</span>
                      </li>
                    ))}
                  </ol>
                </td>
                <td>{p.repeat}</td>
                <td>{p.auto_resolve ? "yes" : "no"}</td>
                <td>
                  {writer && (
                    <div class="row">
                      <a class="button small" href={`/notifications/escalations?edit=${encodeURIComponent(p.id)}`} aria-label={`Edit ${p.name}`}>
                        Edit
                      </a>
                      <button class="small" onClick={() => remove(p)} aria-label={`Delete ${p.name}`}>
                        Delete
                      </button>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

interface LevelText {
  receivers: string;
  delay: string;
}

function PolicyForm({ initial, onSaved, onCancel }: { initial?: Policy; onSaved: () => void; onCancel: () => void }) {
  const [name, setName] = useState(initial?.name ?? "");
  const [matchers, setMatchers] = useState(initial?.matchers ?? "{}");
  const [levels, setLevels] = useState<LevelText[]>(
    initial?.levels.map((l) => ({ receivers: l.receivers.join(", "), delay: delayText(l.delay) })) ?? [{ receivers: "", delay: "5m" }],
  );
  const [repeat, setRepeat] = useState(String(initial?.repeat ?? 0));
  const [autoResolve, setAutoResolve] = useState(initial?.auto_resolve ?? true);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const setLevel = (i: number, patch: Partial<LevelText>) => setLevels(levels.map((l, j) => (j === i ? { ...l, ...patch } : l)));
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = {
      name,
      matchers,
      levels: levels.map((l) => ({ receivers: l.receivers.split(",").map((s) => s.trim()).filter(Boolean), delay: l.delay })),
      repeat: Number(repeat),
      auto_resolve: autoResolve,
    };
    try {
      if (initial) await api.put("/api/v1/escalation-policies/{policy_id}", { path: { policy_id: initial.id }, body });
      else await api.post("/api/v1/escalation-policies", { body });
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card form" onSubmit={submit} aria-label={initial ? "Edit policy" : "New policy"}>
      <h2>{initial ? `Edit ${initial.name}` : "New escalation policy"}</h2>
      <div class="row wrap">
        <label>
          Name
          <input name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <FieldError error={error} field="name" />
        </label>
        <label>
          Alerts (matchers)
          <input name="matchers" value={matchers} placeholder='{severity="critical"}' onInput={(e) => setMatchers(e.currentTarget.value)} />
          <FieldError error={error} field="matchers" />
        </label>
      </div>
      <fieldset class="fields">
        <legend>Levels, in order</legend>
        {levels.map((l, i) => (
          <div class="row wrap" key={i}>
            <label>
              Level {i + 1} receivers
              <input value={l.receivers} required placeholder="oncall, team-lead" onInput={(e) => setLevel(i, { receivers: e.currentTarget.value })} />
            </label>
            <label>
              Level {i + 1} acknowledge within
              <input class="narrow" value={l.delay} onInput={(e) => setLevel(i, { delay: e.currentTarget.value })} />
            </label>
            {levels.length > 1 && (
              <button type="button" class="small" onClick={() => setLevels(levels.filter((_, j) => j !== i))} aria-label={`Remove level ${i + 1}`}>
                Remove
              </button>
            )}
          </div>
        ))}
        <FieldError error={error} field="levels" />
        <button type="button" class="small" onClick={() => setLevels([...levels, { receivers: "", delay: "15m" }])}>
          Add level
        </button>
      </fieldset>
      <div class="row wrap">
        <label>
          Repeat the ladder
          <input name="repeat" class="narrow" type="number" min="0" value={repeat} onInput={(e) => setRepeat(e.currentTarget.value)} />
          <FieldError error={error} field="repeat" />
        </label>
        <label class="check">
          <input type="checkbox" checked={autoResolve} onChange={(e) => setAutoResolve(e.currentTarget.checked)} /> Stop when the alert resolves
        </label>
      </div>
      {!errorIsForField(error, ["name", "matchers", "levels", "repeat"]) && <ErrorBox error={error} />}
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          {initial ? "Save" : "Create policy"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
