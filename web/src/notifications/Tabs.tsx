// The Notifications area's sub-pages: channels, escalation policies, integrations (admins), routing.
import { can, useSession } from "../app/session";

const TABS = [
  { href: "/notifications", label: "Channels" },
  { href: "/notifications/escalations", label: "Escalation policies" },
  { href: "/notifications/integrations", label: "Integrations", admin: true },
];

export function NotificationTabs({ path }: { path: string }) {
  const { me } = useSession();
  return (
    <nav class="tabs" aria-label="Notifications">
      {TABS.filter((t) => !t.admin || can(me, "admin")).map((t) => (
        <a key={t.href} href={t.href} aria-current={t.href === path ? "page" : undefined}>
          {t.label}
        </a>
      ))}
    </nav>
  );
}
