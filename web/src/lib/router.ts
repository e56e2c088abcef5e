// A tiny client-side router: the URL is the state (deep links, back button), pages re-render on change.
import { useEffect, useState } from "preact/hooks";

type Listener = () => void;
const listeners = new Set<Listener>();

function notify(): void {
  listeners.forEach((l) => l());
}

export function navigate(url: string, opts: { replace?: boolean } = {}): void {
  if (url === location.pathname + location.search + location.hash) return;
  if (opts.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  notify();
  if (!opts.replace) window.scrollTo(0, 0);
}

/** Same-origin <a href> clicks become pushState navigations (modifier keys and new tabs keep the browser's way). */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as Element).closest("a");
    if (!anchor || anchor.target || anchor.hasAttribute("download") || anchor.dataset.native !== undefined) return;
    const url = new URL(anchor.href, location.href);
    if (url.origin !== location.origin || isServerPath(url.pathname)) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
  window.addEventListener("popstate", notify);
}

/** Paths the server answers itself (API, docs, Prometheus pages): a normal page load. */
export function isServerPath(path: string): boolean {
  return /^\/(api|prometheus|v1|docs|redoc|openapi\.json|ping|status-pages|demo|metrics$|health$|ready$|status$)/.test(path);
}

export function useLocation(): URL {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return new URL(location.href);
}

/** Match `/services/:name` against a path; the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split("/").filter(Boolean);
  const s = path.split("/").filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(":")) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}

/** Replace some query parameters of the current URL (undefined/empty removes one). */
export function setQuery(changes: Record<string, string | undefined | null>, opts: { replace?: boolean } = {}): void {
  const url = new URL(location.href);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === null || v === "") url.searchParams.delete(k);
    else url.searchParams.set(k, v);
  }
  navigate(url.pathname + url.search, opts);
}
