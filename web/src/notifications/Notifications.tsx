// Notifications: the channels (create, edit, delete, send a test) and the delivery log.
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { navigate, useLocation } from "../lib/router";
import { type Channel, ChannelForm, type ChannelKind } from "./ChannelForm";
import { can, useSession } from "../app/session";
import { NotificationTabs } from "./Tabs";
import { Badge, Empty, ErrorBox, Loading, PageHeader, Time } from "../app/ui";
import { useData } from "../app/useData";

export function Notifications() {
  const { me } = useSession();
  const url = useLocation();
  const channels = useData(() => api.get<Channel[]>("/api/v1/channels"));
  const kinds = useData(() => api.get<ChannelKind[]>("/api/v1/channels/kinds"));
  const creating = url.searchParams.get("new") === "1";
  const editId = url.searchParams.get("edit");
  const editing = editId ? channels.data?.find((c) => c.id === editId) : undefined;
  const admin = can(me, "admin");
  const remove = async (c: Channel) => {
    if (!confirm(`Delete the channel ${c.name}?`)) return;
    setError(null);
    try {
      await api.del("/api/v1/channels/{channel_id}", { path: { channel_id: c.id } });
      channels.reload();
    } catch (e) {
      setError(e);
    }
  };
  const done = () => {
    channels.reload();
    navigate("/notifications");
  };
  const log = useData(() => api.get<any>("/api/v1/notifications", { query: { limit: 50 } }));
  const [error, setError] = useState<unknown>(null);
  const [tested, setTested] = useState<string | null>(null);
  const test = async (id: string, name: string) => {
    setError(null);
    try {
      await api.post("/api/v1/channels/{channel_id}/test", { path: { channel_id: id } });
      setTested(name);
      log.reload();
    } catch (e) {
      setError(e);
    }
  };
  const entries: any[] = Array.isArray(log.data) ? log.data : log.data?.items ?? [];
  return (
    <div class="page">
      <PageHeader title="Notifications">
        {admin && !creating && (
          <a class="button primary" href="/notifications?new=1">
            New channel
          </a>
        )}
      </PageHeader>
      <NotificationTabs path="/notifications" />
      {admin && kinds.data && creating && <ChannelForm kinds={kinds.data} onSaved={done} onCancel={() => navigate("/notifications")} />}
      {admin && kinds.data && editing && <ChannelForm key={editing.id} kinds={kinds.data} initial={editing} onSaved={done} onCancel={() => navigate("/notifications")} />}
      <ErrorBox error={channels.error || kinds.error || error} />
      {tested && (
        <p class="card" role="status">
          Test sent to {tested}; its delivery is in the log below.
        </p>
      )}
      <section class="card" aria-labelledby="channels">
        <h2 id="channels">Channels</h2>
        {channels.loading && !channels.data ? (
          <Loading />
        ) : !channels.data?.length ? (
          <Empty title="No channels yet">
            {admin ? <a href="/notifications?new=1">Add one</a> : "An admin can add one"}: e-mail, Slack, PagerDuty, a webhook…
          </Empty>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Kind</th>
                <th>Receiver</th>
                <th>Minimum severity</th>
                <th>
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {channels.data.map((c) => (
                <tr key={c.id}>
                  <td>{c.name}</td>
                  <td>{c.kind}</td>
                  <td>{c.receiver}</td>
                  <td>{c.min_severity ?? "any"}</td>
                  <td>
                    <div class="row">
                      {can(me, "write") && (
                        <button class="small" onClick={() => test(c.id, c.name)}>
                          Send test
                        </button>
                      )}
                      {admin && c.source !== "alertmanager.yml" && (
                        <>
                          <a class="button small" href={`/notifications?edit=${encodeURIComponent(c.id)}`} aria-label={`Edit ${c.name}`}>
                            Edit
                          </a>
                          <button class="small" onClick={() => remove(c)} aria-label={`Delete ${c.name}`}>
                            Delete
                          </button>
                        </>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section class="card" aria-labelledby="deliveries">
        <h2 id="deliveries">Delivery log</h2>
        <ErrorBox error={log.error} />
        {log.data && entries.length === 0 ? (
          <Empty title="Nothing delivered yet">Notifications appear here when an alert reaches a channel.</Empty>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th>When</th>
                <th>Channel</th>
                <th>Status</th>
                <th>Attempts</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((n) => (
                <tr key={n.id}>
                  <td>
                    <Time value={n.created_at ?? n.at} />
                  </td>
                  <td>{n.channel_name ?? n.channel ?? n.channel_id}</td>
                  <td>
                    <Badge value={n.status === "sent" || n.status === "delivered" ? "ok" : n.status === "dead" || n.status === "failed" ? "error" : "pending"} label={n.status} />
                  </td>
                  <td>{n.attempts}</td>
                  <td class="small muted">{n.last_error ?? n.error ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
