// Integrations (admins only): event webhooks (signed pushes of alert and check events) and metric forwarders.
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { Empty, errorIsForField, ErrorBox, FieldError, Loading, PageHeader } from "../app/ui";
import { useData } from "../app/useData";
import { NotificationTabs } from "./Tabs";

const FORWARDERS = ["remote_write", "datadog", "newrelic"];

export function Integrations() {
  const hooks = useData(() => api.get<any[]>("/api/v1/integrations/webhooks"));
  const events = useData(() => api.get<string[]>("/api/v1/integrations/events"));
  const forwarders = useData(() => api.get<any[]>("/api/v1/integrations/external"));
  const [error, setError] = useState<unknown>(null);
  const [addingHook, setAddingHook] = useState(false);
  const [addingFwd, setAddingFwd] = useState(false);
  const delHook = async (h: any) => {
    if (!confirm(`Delete the webhook ${h.name}?`)) return;
    setError(null);
    try {
      await api.del("/api/v1/integrations/webhooks/{webhook_id}", { path: { webhook_id: h.id } });
      hooks.reload();
    } catch (e) {
      setError(e);
    }
  };
  const delFwd = async (kind: string) => {
    if (!confirm(`Stop and forget the ${kind} forwarder?`)) return;
    setError(null);
    try {
      await api.del("/api/v1/integrations/external/{kind}", { path: { kind } });
      forwarders.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="page">
      <PageHeader title="Integrations" />
      <NotificationTabs path="/notifications/integrations" />
      <ErrorBox error={error} />
      <section class="card" aria-labelledby="webhooks">
        <div class="row">
          <h2 id="webhooks">Event webhooks</h2>
          {!addingHook && (
            <button class="small primary" onClick={() => setAddingHook(true)}>
              New webhook
            </button>
          )}
        </div>
        {addingHook && (
          <WebhookForm
            events={events.data ?? []}
            onSaved={() => {
              setAddingHook(false);
              hooks.reload();
            }}
            onCancel={() => setAddingHook(false)}
          />
        )}
        <ErrorBox error={hooks.error} />
        {hooks.loading && !hooks.data ? (
          <Loading />
        ) : !hooks.data?.length ? (
          <Empty title="No event webhooks">Nightowl can POST signed alert and check events to a URL of yours.</Empty>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th>Name</th>
                <th>URL</th>
                <th>Events</th>
                <th>Enabled</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {hooks.data.map((h) => (
                <tr key={h.id}>
                  <td>{h.name}</td>
                  <td class="small">{h.url}</td>
                  <td class="small">{(h.events ?? []).join(", ")}</td>
                  <td>{h.enabled ? "yes" : "no"}</td>
                  <td>
                    <button class="small" onClick={() => delHook(h)} aria-label={`Delete ${h.name}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section class="card" aria-labelledby="forwarders">
        <div class="row">
          <h2 id="forwarders">Metric forwarders</h2>
          {!addingFwd && (
            <button class="small primary" onClick={() => setAddingFwd(true)}>
              New forwarder
            </button>
          )}
        </div>
        {addingFwd && (
          <ForwarderForm
            onSaved={() => {
              setAddingFwd(false);
              forwarders.reload();
            }}
            onCancel={() => setAddingFwd(false)}
          />
        )}
        <ErrorBox error={forwarders.error} />
        {forwarders.loading && !forwarders.data ? (
          <Loading />
        ) : !forwarders.data?.length ? (
          <Empty title="No metric forwarders">Copy samples to Prometheus remote write, Datadog or New Relic.</Empty>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th>Kind</th>
                <th>URL</th>
                <th>Series</th>
                <th>Enabled</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {forwarders.data.map((f) => {
                const kind = f.kind ?? f.type;
                return (
                  <tr key={kind}>
                    <td>{kind}</td>
                    <td class="small">{f.url ?? f.config?.url ?? "default"}</td>
                    <td class="small">{(f.match ?? f.config?.match ?? []).join(", ") || "everything"}</td>
                    <td>{(f.enabled ?? f.config?.enabled) ? "yes" : "no"}</td>
                    <td>
                      <button class="small" onClick={() => delFwd(kind)} aria-label={`Delete ${kind}`}>
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

function WebhookForm({ events, onSaved, onCancel }: { events: string[]; onSaved: () => void; onCancel: () => void }) {
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [chosen, setChosen] = useState<string[]>(["*"]);
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await api.post("/api/v1/integrations/webhooks", { body: { name, url, events: chosen, secret: secret || null } });
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  const toggle = (ev: string, on: boolean) => setChosen(on ? [...chosen.filter((x) => x !== "*" || ev === "*"), ev] : chosen.filter((x) => x !== ev));
  return (
    <form class="form" onSubmit={submit} aria-label="New webhook">
      <div class="row wrap">
        <label>
          Name
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <FieldError error={error} field="name" />
        </label>
        <label>
          URL
          <input required value={url} placeholder="https://example.com/hooks/nightowl" onInput={(e) => setUrl(e.currentTarget.value)} />
          <FieldError error={error} field="url" />
        </label>
        <label>
          Signing secret (optional)
          <input type="password" autoComplete="off" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
          <FieldError error={error} field="secret" />
        </label>
      </div>
      <fieldset class="fields">
        <legend>Events</legend>
        <div class="row wrap">
          {["*", ...events].map((ev) => (
            <label class="check" key={ev}>
              <input type="checkbox" checked={chosen.includes(ev)} onChange={(e) => toggle(ev, e.currentTarget.checked)} /> {ev === "*" ? "all" : ev}
            </label>
          ))}
        </div>
        <FieldError error={error} field="events" />
      </fieldset>
      {!errorIsForField(error, ["name", "url", "secret", "events"]) && <ErrorBox error={error} />}
      <div class="row">
        <button type="submit" class="primary">
          Create webhook
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ForwarderForm({ onSaved, onCancel }: { onSaved: () => void; onCancel: () => void }) {
  const [kind, setKind] = useState(FORWARDERS[0]);
  const [url, setUrl] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [username, setUsername] = useState("");
  const [match, setMatch] = useState("");
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const body = {
      url: url || null,
      api_key: apiKey || null,
      username: username || null,
      match: match.split("\n").map((s) => s.trim()).filter(Boolean),
    };
    try {
      await api.put("/api/v1/integrations/external/{kind}", { path: { kind }, body });
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="form" onSubmit={submit} aria-label="New forwarder">
      <div class="row wrap">
        <label>
          Kind
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
            {FORWARDERS.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <label>
          URL {kind === "remote_write" ? "" : "(optional)"}
          <input value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
          <FieldError error={error} field="url" />
        </label>
        <label>
          API key / token
          <input type="password" autoComplete="off" value={apiKey} onInput={(e) => setApiKey(e.currentTarget.value)} />
          <FieldError error={error} field="api_key" />
        </label>
        {kind === "remote_write" && (
          <label>
            Username (optional)
            <input value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
          </label>
        )}
      </div>
      <label>
        Series to forward (selectors, one per line; none: everything)
        <textarea rows={2} value={match} onInput={(e) => setMatch(e.currentTarget.value)} />
        <FieldError error={error} field="match" />
      </label>
      {!errorIsForField(error, ["url", "api_key", "match"]) && <ErrorBox error={error} />}
      <div class="row">
        <button type="submit" class="primary">
          Save forwarder
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
