// Plain data and orderings shared by the overview and the health pages.
export interface Service {
  name: string;
  group: string | null;
  description: string | null;
  state: "up" | "degraded" | "down" | "unknown";
  latency: number | null;
  last_error: string | null;
  in_maintenance: boolean;
  uptime: Record<string, number | null>;
  checks: { id: string; name: string; type: string; state: string; latency: number | null; last_error: string | null; last_run_at: number | null }[];
}

const RANK: Record<string, number> = { down: 0, degraded: 1, unknown: 2, up: 3 };
/** Worst first: down, degraded, unknown, up. */
export function stateRank(state: string): number {
  return RANK[state] ?? 2;
}

export const SEVERITY_ORDER: Record<string, number> = { critical: 0, page: 0, error: 1, warning: 2, info: 3, none: 4 };
