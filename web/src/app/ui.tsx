// Small shared pieces: times with UTC on hover, empty states, errors next to their field, state badges.
import type { ComponentChildren } from "preact";
import { ApiError } from "../api/client";
import { localTime, relative, toDate, utcTime } from "../lib/time";

export function Time({ value, rel = false }: { value: string | number | null | undefined; rel?: boolean }) {
  const d = toDate(value);
  if (!d) return <span class="muted">—</span>;
  return (
    <time dateTime={d.toISOString()} title={utcTime(d)}>
      {rel ? relative(d) : localTime(d)}
    </time>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty" role="status">
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  return (
    <div class="error" role="alert">
      {text}
    </div>
  );
}

/** The server's problem `detail`, shown under the field it names (field "interval" or "body.interval"). */
export function FieldError({ error, field }: { error: unknown; field: string }) {
  if (!(error instanceof ApiError) || !error.field) return null;
  const f = error.field.replace(/^body\./, "");
  if (f !== field && !f.startsWith(field + ".") && !f.startsWith(field + "[")) return null;
  return (
    <div class="field-error" role="alert">
      {error.message}
    </div>
  );
}

/** Whether an error is already shown next to one of these fields (else show it at the top of the form). */
export function errorIsForField(error: unknown, fields: string[]): boolean {
  if (!(error instanceof ApiError) || !error.field) return false;
  const f = error.field.replace(/^body\./, "");
  return fields.some((x) => f === x || f.startsWith(x + ".") || f.startsWith(x + "["));
}

const TONE: Record<string, string> = {
  up: "ok",
  ok: "ok",
  resolved: "ok",
  active: "bad",
  firing: "bad",
  down: "bad",
  critical: "bad",
  error: "bad",
  page: "bad",
  degraded: "warn",
  pending: "warn",
  warning: "warn",
  unknown: "muted",
  suppressed: "muted",
  expired: "muted",
  info: "info",
};

export function Badge({ value, label }: { value: string; label?: string }) {
  return <span class={`badge tone-${TONE[value] ?? "info"}`}>{label ?? value}</span>;
}

export function Loading() {
  return (
    <div class="loading" role="status" aria-live="polite">
      Loading…
    </div>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <h1>{title}</h1>
      <div class="actions">{children}</div>
    </header>
  );
}
