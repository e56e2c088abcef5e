// Every page of the UI: its path, who may open it, and its place in the navigation.
import type { ComponentType } from "preact";
import { lazy } from "preact/compat";
import { Audit, Keys, Users, Workers } from "../admin/Admin";
import { AlertsInbox } from "../alerts/Inbox";
import { Rules } from "../alerts/Rules";
import { NewSilence, Silences } from "../alerts/Silences";
import { CheckPage, Checks } from "../health/Checks";
import { Maintenance } from "../health/Maintenance";
import { StatusPages } from "../health/StatusPages";
import { ServicePage, Services } from "../health/Services";
import { Escalations } from "../notifications/Escalations";
import { Integrations } from "../notifications/Integrations";
import { Notifications } from "../notifications/Notifications";
import { Overview } from "../overview/Overview";
import { Targets } from "../targets/Targets";

const Explore = lazy(() => import("../explore/Explore").then((m) => m.Explore));
const MetricsBrowser = lazy(() => import("../explore/MetricsBrowser").then((m) => m.MetricsBrowser));

type Permission = "read" | "write" | "admin";

export interface Route {
  path: string;
  component: ComponentType<{ params: Record<string, string> }>;
  permission?: Permission;
  title: string;
}

export const ROUTES: Route[] = [
  { path: "/", component: Overview, title: "Overview" },
  { path: "/explore", component: Explore, title: "Explore" },
  { path: "/explore/metrics", component: MetricsBrowser, title: "Metrics browser" },
  { path: "/alerts", component: AlertsInbox, title: "Alerts" },
  { path: "/silences", component: Silences, title: "Silences" },
  { path: "/silences/new", component: NewSilence, title: "New silence", permission: "write" },
  { path: "/rules", component: Rules, title: "Rules" },
  { path: "/services", component: Services, title: "Services" },
  { path: "/services/:name", component: ServicePage, title: "Service" },
  { path: "/checks", component: Checks, title: "Checks" },
  { path: "/checks/:id", component: CheckPage, title: "Check" },
  { path: "/maintenance", component: Maintenance, title: "Maintenance" },
  { path: "/pages", component: StatusPages, title: "Status pages" },
  { path: "/targets", component: Targets, title: "Targets" },
  { path: "/notifications", component: Notifications, title: "Notifications" },
  { path: "/notifications/escalations", component: Escalations, title: "Escalation policies" },
  { path: "/notifications/integrations", component: Integrations, title: "Integrations", permission: "admin" },
  { path: "/admin", component: Users, title: "Users", permission: "admin" },
  { path: "/admin/users", component: Users, title: "Users", permission: "admin" },
  { path: "/admin/keys", component: Keys, title: "API keys", permission: "admin" },
  { path: "/admin/audit", component: Audit, title: "Audit log", permission: "admin" },
  { path: "/admin/workers", component: Workers, title: "Workers", permission: "admin" },
];

export interface NavSection {
  title: string;
  permission?: Permission;
  items: { href: string; label: string }[];
}

export const NAV: NavSection[] = [
  {
    title: "Monitor",
    items: [
      { href: "/", label: "Overview" },
      { href: "/explore", label: "Explore" },
      { href: "/explore/metrics", label: "Metrics" },
      { href: "/targets", label: "Targets" },
    ],
  },
  {
    title: "Health",
    items: [
      { href: "/services", label: "Services" },
      { href: "/checks", label: "Checks" },
      { href: "/maintenance", label: "Maintenance" },
      { href: "/pages", label: "Status pages" },
    ],
  },
  {
    title: "Alerting",
    items: [
      { href: "/alerts", label: "Alerts" },
      { href: "/silences", label: "Silences" },
      { href: "/rules", label: "Rules" },
      { href: "/notifications", label: "Notifications" },
    ],
  },
  {
    title: "Admin",
    permission: "admin",
    items: [
      { href: "/admin/users", label: "Users" },
      { href: "/admin/keys", label: "API keys" },
      { href: "/admin/audit", label: "Audit log" },
      { href: "/admin/workers", label: "Workers" },
    ],
  },
];
