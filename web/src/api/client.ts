// The one API client: every path is checked against the generated OpenAPI types (schema.d.ts), so a
// renamed or removed endpoint fails `tsc`, and a server problem becomes an ApiError carrying its field.
import type { paths } from "./schema";

type Method = "get" | "post" | "put" | "patch" | "delete";
export type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P] extends Record<M, unknown> ? (paths[P][M] extends undefined | never ? never : P) : never;
}[keyof paths];

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  field?: string;
  [key: string]: unknown;
}

export class ApiError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
    this.problem = problem;
  }
  get status(): number {
    return this.problem.status;
  }
  /** The request field the server blamed (e.g. "interval", "[0].labels"), for showing the error next to it. */
  get field(): string | undefined {
    return this.problem.field;
  }
}

export interface RequestOptions {
  path?: Record<string, string | number>;
  query?: Record<string, string | number | boolean | undefined | null | (string | number)[]>;
  body?: unknown;
  signal?: AbortSignal;
  /** Don't send the person to the login page on 401 (the login page itself, the session probe). */
  quiet401?: boolean;
}

/** Fill `{name}` placeholders and append a query string; arrays repeat the parameter. */
export function buildUrl(template: string, opts: Pick<RequestOptions, "path" | "query"> = {}): string {
  let url = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = opts.path?.[name];
    if (value === undefined) throw new Error(`missing path parameter ${name} for ${template}`);
    return encodeURIComponent(String(value));
  });
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(opts.query ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => q.append(key, String(v)));
    else q.append(key, String(value));
  }
  const qs = q.toString();
  if (qs) url += (url.includes("?") ? "&" : "?") + qs;
  return url;
}

let onUnauthorized: (() => void) | null = null;
/** The shell registers what a 401 means (refresh the session once, else go to /login?next=...). */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

let refreshing: Promise<boolean> | null = null;
/** Trade the refresh cookie for a new session; concurrent 401s share one attempt. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= fetch("/api/v1/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Requested-With": "nightowl" },
    body: "{}",
    credentials: "same-origin",
  })
    .then((r) => r.ok)
    .catch(() => false)
    .finally(() => setTimeout(() => (refreshing = null), 0));
  return refreshing;
}

async function parse(response: Response): Promise<unknown> {
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("json")) return response.json();
  return response.text();
}

export async function request<T = any>(method: Method, url: string, opts: RequestOptions = {}, retried = false): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", "X-Requested-With": "nightowl" };
  let body: BodyInit | undefined;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  const response = await fetch(url, { method: method.toUpperCase(), headers, body, signal: opts.signal, credentials: "same-origin" });
  if (response.status === 401 && !opts.quiet401) {
    if (!retried && (await refreshSession())) return request<T>(method, url, opts, true);
    onUnauthorized?.();
  }
  const data = await parse(response);
  if (!response.ok) {
    const problem: Problem =
      data && typeof data === "object" ? { status: response.status, ...(data as object) } : { status: response.status, detail: String(data || response.statusText) };
    throw new ApiError(problem);
  }
  return data as T;
}

export const api = {
  get: <T = any>(path: PathsWith<"get">, opts?: RequestOptions) => request<T>("get", buildUrl(path, opts), opts),
  post: <T = any>(path: PathsWith<"post">, opts?: RequestOptions) => request<T>("post", buildUrl(path, opts), opts),
  put: <T = any>(path: PathsWith<"put">, opts?: RequestOptions) => request<T>("put", buildUrl(path, opts), opts),
  patch: <T = any>(path: PathsWith<"patch">, opts?: RequestOptions) => request<T>("patch", buildUrl(path, opts), opts),
  del: <T = any>(path: PathsWith<"delete">, opts?: RequestOptions) => request<T>("delete", buildUrl(path, opts), opts),
};
