// A channel's create/edit form, generated from the fields each kind declares (GET /api/v1/channels/kinds).
// Secrets are write-only: the field shows "<secret>" and the stored value is kept unless something is typed.
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { errorIsForField, ErrorBox, FieldError } from "../app/ui";

export interface KindField {
  name: string;
  type: "str" | "int" | "bool" | "choice" | "list" | "dict" | string;
  required: boolean;
  secret: boolean;
  default: unknown;
  choices: string[];
  help: string;
}

export interface ChannelKind {
  kind: string;
  label: string;
  fields: KindField[];
}

export interface Channel {
  id: string;
  name: string;
  kind: string;
  receiver: string;
  config: Record<string, unknown>;
  min_severity: string | null;
  rate_limit: number | null;
  send_resolved: boolean;
  enabled: boolean;
  source?: string;
}

const SEVERITIES = ["", "info", "warning", "error", "critical"];

/** How a field's value is shown in its input (lists one per line, maps as `key: value` lines). */
export function toText(type: string, value: unknown): string {
  if (value == null) return "";
  if (type === "list" && Array.isArray(value)) return value.join("\n");
  if (type === "dict" && typeof value === "object") return Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}: ${v}`).join("\n");
  return String(value);
}

/** The typed value sent to the API, or undefined to leave the field out (empty and optional). */
export function fromText(type: string, text: string): unknown {
  const t = text.trim();
  if (t === "") return undefined;
  if (type === "int") return Number(t);
  if (type === "list") return t.split("\n").map((s) => s.trim()).filter(Boolean);
  if (type === "dict") {
    const out: Record<string, string> = {};
    for (const line of t.split("\n")) {
      const i = line.indexOf(":");
      if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    return out;
  }
  return t;
}

function defaults(k: ChannelKind | undefined, initial?: Channel): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of k?.fields ?? []) {
    if (f.secret && initial) continue;
    const v = initial ? initial.config[f.name] : f.default;
    out[f.name] = f.type === "bool" ? String(v ?? false) : toText(f.type, v);
  }
  return out;
}

export function ChannelForm({ kinds, initial, onSaved, onCancel }: { kinds: ChannelKind[]; initial?: Channel; onSaved: (c: Channel) => void; onCancel: () => void }) {
  const [kind, setKind] = useState<string>(initial?.kind ?? kinds[0]?.kind ?? "webhook");
  const [name, setName] = useState(initial?.name ?? "");
  const [receiver, setReceiver] = useState(initial?.receiver ?? "");
  const [minSeverity, setMinSeverity] = useState(initial?.min_severity ?? "");
  const [rateLimit, setRateLimit] = useState(initial?.rate_limit != null ? String(initial.rate_limit) : "");
  const [sendResolved, setSendResolved] = useState(initial?.send_resolved ?? true);
  const [enabled, setEnabled] = useState(initial?.enabled ?? true);
  // typed text per config field; a secret field starts empty and is only sent when typed into
  const [values, setValues] = useState<Record<string, string>>(() => defaults(kinds.find((x) => x.kind === (initial?.kind ?? kinds[0]?.kind)), initial));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const spec = kinds.find((k) => k.kind === kind);
  const set = (field: string, value: string) => setValues({ ...values, [field]: value });

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const config: Record<string, unknown> = {};
    for (const f of spec?.fields ?? []) {
      const text = values[f.name];
      if (f.secret && initial && (text === undefined || text === "")) {
        // untouched secret: send the masked value back, which the server reads as "keep"
        if (initial.config[f.name] !== undefined) config[f.name] = initial.config[f.name];
        continue;
      }
      if (f.type === "bool") {
        config[f.name] = text === "true";
        continue;
      }
      const v = fromText(f.type, text ?? "");
      if (v !== undefined) config[f.name] = v;
    }
    const body = {
      name,
      kind,
      receiver: receiver || name,
      config,
      min_severity: minSeverity || null,
      rate_limit: rateLimit ? Number(rateLimit) : null,
      send_resolved: sendResolved,
      enabled,
    };
    try {
      const saved = initial
        ? await api.put<Channel>("/api/v1/channels/{channel_id}", { path: { channel_id: initial.id }, body })
        : await api.post<Channel>("/api/v1/channels", { body });
      onSaved(saved);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fieldNames = ["name", "kind", "receiver", "min_severity", "rate_limit", ...(spec?.fields ?? []).map((f) => `config.${f.name}`)];
  return (
    <form class="card form" onSubmit={submit} aria-label={initial ? "Edit channel" : "New channel"}>
      <h2>{initial ? `Edit ${initial.name}` : "New channel"}</h2>
      <div class="row wrap">
        <label>
          Name
          <input name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <FieldError error={error} field="name" />
        </label>
        <label>
          Kind
          <select name="kind" value={kind} disabled={!!initial} onChange={(e) => {
              const k = e.currentTarget.value;
              setKind(k);
              setValues(defaults(kinds.find((x) => x.kind === k)));
            }}>
            {kinds.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.label}
              </option>
            ))}
          </select>
          <FieldError error={error} field="kind" />
        </label>
        <label>
          Receiver
          <input name="receiver" value={receiver} placeholder="same as the name" onInput={(e) => setReceiver(e.currentTarget.value)} />
          <FieldError error={error} field="receiver" />
        </label>
      </div>
      <fieldset class="fields">
        <legend>{spec?.label ?? kind} settings</legend>
        {(spec?.fields ?? []).map((f) => (
          <ConfigField key={`${kind}-${f.name}`} field={f} value={values[f.name] ?? ""} editing={!!initial} onChange={(v) => set(f.name, v)} error={error} />
        ))}
      </fieldset>
      <div class="row wrap">
        <label>
          Minimum severity
          <select name="min_severity" value={minSeverity} onChange={(e) => setMinSeverity(e.currentTarget.value)}>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
          <FieldError error={error} field="min_severity" />
        </label>
        <label>
          Rate limit (per minute)
          <input name="rate_limit" class="narrow" type="number" min="1" value={rateLimit} placeholder="none" onInput={(e) => setRateLimit(e.currentTarget.value)} />
          <FieldError error={error} field="rate_limit" />
        </label>
        <label class="check">
          <input type="checkbox" checked={sendResolved} onChange={(e) => setSendResolved(e.currentTarget.checked)} /> Send resolved
        </label>
        <label class="check">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} /> Enabled
        </label>
      </div>
      {!errorIsForField(error, fieldNames) && <ErrorBox error={error} />}
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          {initial ? "Save" : "Create channel"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ConfigField({ field: f, value, editing, onChange, error }: { field: KindField; value: string; editing: boolean; onChange: (v: string) => void; error: unknown }) {
  const label = `${f.name.replace(/_/g, " ")}${f.required ? "" : " (optional)"}`;
  const hint = f.help ? <span class="small muted">{f.help}</span> : null;
  const err = <FieldError error={error} field={`config.${f.name}`} />;
  const secretHint = f.secret && editing ? "<secret>" : undefined;
  if (f.type === "bool")
    return (
      <label class="check">
        <input type="checkbox" name={f.name} checked={value === "true"} onChange={(e) => onChange(String(e.currentTarget.checked))} /> {label}
        {hint}
        {err}
      </label>
    );
  if (f.type === "choice")
    return (
      <label>
        {label}
        <select name={f.name} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          {!f.choices.includes(value) && <option value={value}>{value || "default"}</option>}
          {f.choices.map((c) => (
            <option key={c} value={c}>
              {c || "default"}
            </option>
          ))}
        </select>
        {hint}
        {err}
      </label>
    );
  if (f.type === "list" || f.type === "dict")
    return (
      <label>
        {label}
        <textarea
          name={f.name}
          rows={3}
          value={value}
          required={f.required && !editing}
          placeholder={secretHint ?? (f.type === "list" ? "one per line" : "Name: value, one per line")}
          onInput={(e) => onChange(e.currentTarget.value)}
        />
        {hint}
        {err}
      </label>
    );
  return (
    <label>
      {label}
      <input
        name={f.name}
        type={f.type === "int" ? "number" : "text"}
        autoComplete="off"
        value={value}
        required={f.required && !(f.secret && editing)}
        placeholder={secretHint}
        onInput={(e) => onChange(e.currentTarget.value)}
      />
      {hint}
      {err}
    </label>
  );
}
