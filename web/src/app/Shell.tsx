// The frame around every page: navigation (only the pages that exist, and only those the role may see),
// who is logged in, the live connection's state, log out.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { disconnect, useLiveStatus } from "../live/socket";
import { navigate } from "../lib/router";
import type { Me } from "./session";
import { setSession } from "./session";
import { NAV } from "./routes";

export function Shell({ me, path, children }: { me: Me; path: string; children: ComponentChildren }) {
  const live = useLiveStatus();
  const [open, setOpen] = useState(false);
  const logout = async () => {
    try {
      await api.post("/api/v1/auth/logout");
    } catch {
      /* an API key session cannot log out; the page still forgets it */
    }
    disconnect();
    setSession(null);
    navigate("/login");
  };
  const current = (href: string) => (href === "/" ? path === "/" : path === href || path.startsWith(href + "/"));
  return (
    <div class={`shell ${open ? "nav-open" : ""}`}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <button class="menu" aria-label="Menu" aria-expanded={open} onClick={() => setOpen(!open)}>
          ☰
        </button>
        <a href="/" class="brand">
          <img src="/favicon.svg" alt="" width="22" height="22" /> Nightowl
        </a>
        <span class={`live live-${live}`} title={`Live updates: ${live}`}>
          {live === "live" ? "● live" : live === "connecting" ? "○ connecting" : "○ offline"}
        </span>
        <span class="user" title={`permissions: ${me.permissions.join(", ")}`}>
          {me.name} {me.role && <span class="muted">({me.role})</span>}
        </span>
        <button class="link" onClick={logout}>
          Log out
        </button>
      </header>
      <nav class="sidebar" aria-label="Main" onClick={() => setOpen(false)}>
        {NAV.filter((s) => !s.permission || me.permissions.includes(s.permission)).map((section) => (
          <div class="nav-section" key={section.title}>
            <div class="nav-title">{section.title}</div>
            <ul>
              {section.items.map((item) => (
                <li key={item.href}>
                  <a href={item.href} aria-current={current(item.href) ? "page" : undefined}>
                    {item.label}
                  </a>
                </li>
              ))}
            </ul>
          </div>
        ))}
        <div class="nav-section">
          <div class="nav-title">API</div>
          <ul>
            <li>
              <a href="/docs" data-native>
                API docs
              </a>
            </li>
          </ul>
        </div>
      </nav>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
