// Who is logged in and what they may do; pages hide or disable what the role cannot use.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api/client";

export interface Me {
  kind: string;
  id: string;
  name: string;
  permissions: string[];
  role?: string;
}

let current: Me | null = null;
let loaded = false;
const listeners = new Set<() => void>();

export function setSession(me: Me | null): void {
  current = me;
  loaded = true;
  listeners.forEach((l) => l());
}

export async function loadSession(): Promise<Me | null> {
  try {
    setSession(await api.get<Me>("/api/v1/auth/me", { quiet401: false }));
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) setSession(null);
    else throw e;
  }
  return current;
}

export function useSession(): { me: Me | null; loaded: boolean } {
  const [, tick] = useState(0);
  useEffect(() => {
    const l = () => tick((t) => t + 1);
    listeners.add(l);
    // the session may have loaded between the first render and this effect: that news went to nobody
    l();
    return () => void listeners.delete(l);
  }, []);
  return { me: current, loaded };
}

export function can(me: Me | null, permission: "read" | "write" | "admin"): boolean {
  return !!me && (me.permissions.includes(permission) || me.permissions.includes("admin"));
}

export function loginUrl(): string {
  const here = location.pathname + location.search + location.hash;
  return here.startsWith("/login") ? here : `/login?next=${encodeURIComponent(here)}`;
}
