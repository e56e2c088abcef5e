// Load data for a page; reload on demand (after an edit or a live event) without a flash of "Loading".
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Data<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

export function useData<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[] = []): Data<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const run = useCallback(() => {
    const g = ++generation.current;
    const controller = new AbortController();
    setLoading(true);
    load(controller.signal)
      .then((d) => {
        if (g === generation.current) {
          setData(d);
          setError(null);
        }
      })
      .catch((e) => {
        if (g === generation.current && !(e instanceof DOMException && e.name === "AbortError")) setError(e);
      })
      .finally(() => g === generation.current && setLoading(false));
    return controller;
  }, deps);
  useEffect(() => {
    const c = run();
    return () => c.abort();
  }, [run]);
  return { data, error, loading, reload: () => void run() };
}

/** Call `fn` every `ms` while the page is visible. */
export function useInterval(fn: () => void, ms: number): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    const id = setInterval(() => document.visibilityState === "visible" && saved.current(), ms);
    return () => clearInterval(id);
  }, [ms]);
}
