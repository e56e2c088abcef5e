// Silences: the active and pending ones first; a new silence previews which alerts it would mute.
import { useMemo, useState } from "preact/hooks";
import { api } from "../api/client";
import { can, useSession } from "../app/session";
import { Badge, Empty, ErrorBox, FieldError, Loading, PageHeader, Time } from "../app/ui";
import { useData } from "../app/useData";
import { navigate, useLocation } from "../lib/router";
import { parseDuration } from "../lib/time";
import { matchesFilter, parseFilterText, type InboxAlert } from "./model";

interface Silence {
  id: string;
  status: { state: string };
  matchers: { name: string; value: string; isRegex: boolean; isEqual: boolean }[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

function matcherText(m: Silence["matchers"][number]): string {
  return `${m.name}${m.isEqual ? "" : "!"}${m.isRegex ? "~" : "="}"${m.value}"`.replace('!=', "!=").replace(/^(\w+)~/, "$1=~");
}

export function Silences() {
  const { me } = useSession();
  const silences = useData(() => api.get<Silence[]>("/api/v2/silences"));
  const [error, setError] = useState<unknown>(null);
  const expire = async (id: string) => {
    try {
      await api.del("/api/v2/silence/{silence_id}", { path: { silence_id: id } });
      silences.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="page">
      <PageHeader title="Silences">{can(me, "write") && <a class="button primary" href="/silences/new">New silence</a>}</PageHeader>
      <ErrorBox error={silences.error || error} />
      {silences.loading && !silences.data ? (
        <Loading />
      ) : !silences.data?.length ? (
        <Empty title="No silences">Silence an alert from its panel in the <a href="/alerts">inbox</a>, or create one here for planned work.</Empty>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th>State</th>
              <th>Matchers</th>
              <th>Ends</th>
              <th>Created by</th>
              <th>Comment</th>
              <th>
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {silences.data.map((s) => (
              <tr key={s.id}>
                <td>
                  <Badge value={s.status.state === "active" ? "suppressed" : s.status.state} label={s.status.state} />
                </td>
                <td>
                  {s.matchers.map((m, i) => (
                    <code key={i} class="label-chip">
                      {matcherText(m)}
                    </code>
                  ))}
                </td>
                <td>
                  <Time value={s.endsAt} />
                </td>
                <td>{s.createdBy}</td>
                <td>{s.comment}</td>
                <td>
                  {s.status.state !== "expired" && can(me, "write") && (
                    <button class="small" onClick={() => expire(s.id)}>
                      Expire
                    </button>
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

export function NewSilence() {
  const url = useLocation();
  const { me } = useSession();
  const [matchers, setMatchers] = useState(url.searchParams.get("matchers") ?? "");
  const [duration, setDuration] = useState("2h");
  const [comment, setComment] = useState(url.searchParams.get("comment") ?? "");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const alerts = useData(() => api.get<{ items: InboxAlert[] }>("/api/v1/alerts"));
  const parsed = parseFilterText(matchers);
  const muted = useMemo(
    () => (parsed.matchers.length ? (alerts.data?.items ?? []).filter((a) => matchesFilter(a, { state: "", severity: "", ack: "", text: matchers })) : []),
    [alerts.data, matchers],
  );
  const seconds = parseDuration(duration);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!parsed.matchers.length) {
      setError(new Error("Add at least one matcher, e.g. alertname=\"HighLatency\""));
      return;
    }
    if (!seconds) {
      setError(new Error(`Duration ${JSON.stringify(duration)} is not a duration like 2h or 30m`));
      return;
    }
    setBusy(true);
    try {
      const now = Date.now();
      await api.post("/api/v2/silences", {
        body: {
          matchers: parsed.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: m.op.includes("~"), isEqual: !m.op.startsWith("!") })),
          startsAt: new Date(now).toISOString(),
          endsAt: new Date(now + seconds * 1000).toISOString(),
          createdBy: me?.name ?? "ui",
          comment: comment || "created in the UI",
        },
      });
      navigate("/silences");
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="page">
      <PageHeader title="New silence" />
      <form class="card form" onSubmit={submit}>
        <label>
          Matchers
          <input name="matchers" value={matchers} onInput={(e) => setMatchers(e.currentTarget.value)} placeholder='alertname="HighLatency", service=~"pay.*"' required />
          <FieldError error={error} field="matchers" />
        </label>
        <label>
          Duration
          <input name="duration" class="narrow" value={duration} onInput={(e) => setDuration(e.currentTarget.value)} aria-invalid={!seconds} />
        </label>
        <label>
          Comment
          <input name="comment" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
        </label>
        <ErrorBox error={error} />
        <div class="row">
          <button type="submit" class="primary" disabled={busy || !can(me, "write")}>
            Create silence
          </button>
          <a href="/silences">Cancel</a>
        </div>
      </form>
      <section class="card" aria-labelledby="preview">
        <h2 id="preview">Would mute {muted.length} active alert{muted.length === 1 ? "" : "s"}</h2>
        <ul>
          {muted.slice(0, 50).map((a) => (
            <li key={a.id}>
              <Badge value={a.severity || "none"} /> {a.alertname} <span class="muted small">{a.labels.service ?? a.labels.instance ?? ""}</span>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
