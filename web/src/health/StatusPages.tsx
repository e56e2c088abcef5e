// Status pages (at /pages: the server keeps every path under /status for itself): list, create, edit (slug, title, group, public), open the page itself in a new tab, delete.
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { can, useSession } from "../app/session";
import { Badge, Empty, errorIsForField, ErrorBox, FieldError, Loading, PageHeader } from "../app/ui";
import { useData } from "../app/useData";
import { navigate, useLocation } from "../lib/router";

export interface StatusPageView {
  slug: string;
  title: string;
  group: string;
  public: boolean;
  description: string;
}

/** The page itself is served by the server at /status-pages/{slug}, outside the UI (it may not be framed). */
const publicUrl = (slug: string) => `/status-pages/${encodeURIComponent(slug)}`;

export function StatusPages() {
  const { me } = useSession();
  const url = useLocation();
  const pages = useData(() => api.get<{ pages: StatusPageView[] }>("/api/v1/status-pages"));
  const [error, setError] = useState<unknown>(null);
  const editor = can(me, "write");
  const creating = url.searchParams.get("new") === "1";
  const editing = url.searchParams.get("edit");
  const list = pages.data?.pages ?? [];
  const current = editing ? list.find((p) => p.slug === editing) : undefined;
  const done = () => {
    pages.reload();
    navigate("/pages");
  };
  const remove = async (p: StatusPageView) => {
    if (!confirm(`Delete the status page ${p.title} and its incidents?`)) return;
    setError(null);
    try {
      await api.del("/api/v1/status-pages/{slug}", { path: { slug: p.slug } });
      pages.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="page">
      <PageHeader title="Status pages">
        {editor && !creating && !editing && (
          <a class="button primary" href="/pages?new=1">
            New status page
          </a>
        )}
      </PageHeader>
      {editor && creating && <StatusPageForm onSaved={done} onCancel={() => navigate("/pages")} />}
      {editor && current && <StatusPageForm key={current.slug} initial={current} onSaved={done} onCancel={() => navigate("/pages")} />}
      <ErrorBox error={pages.error ?? error} />
      {pages.loading && !pages.data ? (
        <Loading />
      ) : list.length === 0 ? (
        <Empty title="No status pages">
          {editor ? <a href="/pages?new=1">Create one</a> : "An editor can create one"}: a page showing a group's services, public or for signed-in users.
        </Empty>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th>Title</th>
              <th>Slug</th>
              <th>Group</th>
              <th>Visibility</th>
              <th>Page</th>
              {editor && <th>Actions</th>}
            </tr>
          </thead>
          <tbody>
            {list.map((p) => (
              <tr key={p.slug}>
                <td>{p.title}</td>
                <td>
                  <code>{p.slug}</code>
                </td>
                <td>{p.group}</td>
                <td>{p.public ? <Badge value="ok" label="public" /> : <Badge value="muted" label="signed-in" />}</td>
                <td>
                  <a href={publicUrl(p.slug)} target="_blank" rel="noopener">
                    Open {p.slug} (new tab)
                  </a>
                </td>
                {editor && (
                  <td class="row">
                    <a class="button small" href={`/pages?edit=${encodeURIComponent(p.slug)}`} aria-label={`Edit ${p.title}`}>
                      Edit
                    </a>
                    <button type="button" class="small" onClick={() => remove(p)} aria-label={`Delete ${p.title}`}>
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

function StatusPageForm({ initial, onSaved, onCancel }: { initial?: StatusPageView; onSaved: () => void; onCancel: () => void }) {
  const groups = useData(() => api.get<{ groups: { name: string }[] }>("/api/v1/health/groups"));
  const [slug, setSlug] = useState(initial?.slug ?? "");
  const [title, setTitle] = useState(initial?.title ?? "");
  const [group, setGroup] = useState(initial?.group ?? "");
  const [isPublic, setPublic] = useState(initial?.public ?? false);
  const [description, setDescription] = useState(initial?.description ?? "");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const names = (groups.data?.groups ?? []).map((g) => g.name);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    const body = { slug, title, group: group || names[0] || "", public: isPublic, description };
    try {
      if (initial) await api.put("/api/v1/status-pages/{slug}", { path: { slug: initial.slug }, body });
      else await api.post("/api/v1/status-pages", { body });
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fields = ["slug", "title", "group", "public", "description"];
  const label = initial ? `Edit ${initial.title}` : "New status page";
  return (
    <form class="card form" onSubmit={submit} aria-label={label}>
      <h2>{label}</h2>
      <div class="row wrap">
        <label>
          Slug
          <input name="slug" required value={slug} disabled={!!initial} placeholder="status" onInput={(e) => setSlug(e.currentTarget.value)} />
          <FieldError error={error} field="slug" />
        </label>
        <label>
          Title
          <input name="title" required value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
          <FieldError error={error} field="title" />
        </label>
        <label>
          Group
          <select name="group" value={group || names[0] || ""} onChange={(e) => setGroup(e.currentTarget.value)}>
            {names.length === 0 && <option value="">(no groups)</option>}
            {names.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
          <FieldError error={error} field="group" />
        </label>
      </div>
      <label>
        Description
        <input name="description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      </label>
      <label class="check">
        <input type="checkbox" name="public" checked={isPublic} onChange={(e) => setPublic(e.currentTarget.checked)} />
        Public (readable without signing in)
      </label>
      {!errorIsForField(error, fields) && <ErrorBox error={error ?? groups.error} />}
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          {initial ? "Save" : "Create status page"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
