// Log in; afterwards return to the page the person was on (?next=, only paths of this site).
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api/client";
import { loadSession } from "../app/session";
import { navigate } from "../lib/router";

export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\") || next.startsWith("/login")) return "/";
  return next;
}

export function Login() {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const next = safeNext(new URLSearchParams(location.search).get("next"));
  useEffect(() => {
    document.title = "Log in · Nightowl";
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post("/api/v1/auth/login", { body: { username, password }, quiet401: true });
      await loadSession();
      navigate(next, { replace: true });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "Nightowl did not answer; is the server running?");
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login" id="main">
      <form onSubmit={submit} class="card login-card" aria-labelledby="login-title">
        <h1 id="login-title">
          <img src="/favicon.svg" alt="" width="32" height="32" /> Nightowl
        </h1>
        <label>
          Username
          <input name="username" autoComplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {error && (
          <div class="error" role="alert">
            {error}
          </div>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
        <p class="muted small">
          No account yet? An admin creates one with <code>nightowl users create-admin</code>.
        </p>
      </form>
    </main>
  );
}
