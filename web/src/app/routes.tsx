// Every page of the UI: its path, who may open it, and its place in the navigation.
import type { ComponentType } from "preact";
import { lazy } from "preact/compat";
import { AlertsInbox } from "../alerts/Inbox";
import { NewSilence, Silences } from "../alerts/Silences";
import { Overview } from "../overview/Overview";

const Explore = lazy(() => import("../explore/Explore").then((m) => m.Explore));

export interface Route {
  path: string;
  component: ComponentType<{ params: Record<string, string> }>;
  permission?: "read" | "write" | "admin";
  title: string;
}

export const ROUTES: Route[] = [
  { path: "/", component: Overview, title: "Overview" },
  { path: "/explore", component: Explore, title: "Explore" },
  { path: "/alerts", component: AlertsInbox, title: "Alerts" },
  { path: "/silences", component: Silences, title: "Silences" },
  { path: "/silences/new", component: NewSilence, title: "New silence", permission: "write" },
];

export interface NavSection {
  title: string;
  permission?: "read" | "write" | "admin";
  items: { href: string; label: string }[];
}

export const NAV: NavSection[] = [
  {
    title: "Monitor",
    items: [
      { href: "/", label: "Overview" },
      { href: "/explore", label: "Explore" },
    ],
  },
  {
    title: "Alerting",
    items: [
      { href: "/alerts", label: "Alerts" },
      { href: "/silences", label: "Silences" },
    ],
  },
];
