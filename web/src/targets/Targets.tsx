// Scrape targets: state, last scrape, duration, error, labels after relabeling (and the discovered ones).
import { useState } from "preact/hooks";
import { api } from "../api/client";
import { Badge, Empty, ErrorBox, Loading, PageHeader, Time } from "../app/ui";
import { useData, useInterval } from "../app/useData";
import { useLive } from "../live/socket";
import { formatValue } from "../lib/format";
import { setQuery, useLocation } from "../lib/router";

interface Target {
  scrapePool: string;
  scrapeUrl: string;
  labels: Record<string, string>;
  discoveredLabels: Record<string, string>;
  health: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  scrapeInterval: string;
}

export function Targets() {
  const url = useLocation();
  const only = url.searchParams.get("health") ?? "";
  const pool = url.searchParams.get("pool") ?? "";
  const targets = useData(() => api.get<{ data: { activeTargets: Target[]; droppedTargets: { discoveredLabels: Record<string, string> }[] } }>("/prometheus/api/v1/targets"));
  useLive("targets", () => targets.reload());
  useInterval(() => targets.reload(), 15_000);
  const [open, setOpen] = useState<string | null>(null);
  const active = targets.data?.data.activeTargets ?? [];
  const pools = [...new Set(active.map((t) => t.scrapePool))].sort();
  const shown = active
    .filter((t) => (!only || (only === "down" ? t.health !== "up" : t.health === only)) && (!pool || t.scrapePool === pool))
    .sort((a, b) => Number(a.health === "up") - Number(b.health === "up") || a.scrapeUrl.localeCompare(b.scrapeUrl));
  const down = active.filter((t) => t.health !== "up").length;
  return (
    <div class="page">
      <PageHeader title="Targets">
        <span class="muted">
          {active.length} targets, {down} not up, {targets.data?.data.droppedTargets.length ?? 0} dropped by relabeling
        </span>
      </PageHeader>
      <div class="toolbar">
        <label>
          Health
          <select value={only} onChange={(e) => setQuery({ health: e.currentTarget.value }, { replace: true })}>
            <option value="">any</option>
            <option value="down">not up</option>
            <option value="up">up</option>
          </select>
        </label>
        <label>
          Job
          <select value={pool} onChange={(e) => setQuery({ pool: e.currentTarget.value }, { replace: true })}>
            <option value="">all</option>
            {pools.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={targets.error} />
      {targets.loading && !targets.data ? (
        <Loading />
      ) : active.length === 0 ? (
        <Empty title="No scrape targets">
          Paste a <code>scrape_configs:</code> section into the configuration, or add a target with <code>POST /api/v1/targets</code> (see docs/scraping.md).
        </Empty>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th>Endpoint</th>
              <th>State</th>
              <th>Labels</th>
              <th>Last scrape</th>
              <th class="num">Duration</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((t) => (
              <tr key={t.scrapeUrl}>
                <td>
                  <div class="small muted">{t.scrapePool}</div>
                  <a href={t.scrapeUrl} data-native>
                    {t.scrapeUrl}
                  </a>
                </td>
                <td>
                  <Badge value={t.health === "up" ? "up" : t.health === "unknown" ? "unknown" : "down"} label={t.health} />
                </td>
                <td>
                  {Object.entries(t.labels).map(([k, v]) => (
                    <span class="label-chip" key={k}>
                      {k}="{v}"
                    </span>
                  ))}
                  <button class="link small" aria-expanded={open === t.scrapeUrl} onClick={() => setOpen(open === t.scrapeUrl ? null : t.scrapeUrl)}>
                    {open === t.scrapeUrl ? "hide discovered" : "discovered labels"}
                  </button>
                  {open === t.scrapeUrl && (
                    <div class="discovered">
                      {Object.entries(t.discoveredLabels).map(([k, v]) => (
                        <span class="label-chip" key={k}>
                          {k}="{v}"
                        </span>
                      ))}
                    </div>
                  )}
                </td>
                <td>
                  <Time value={t.lastScrape} rel />
                  <div class="small muted">every {t.scrapeInterval}</div>
                </td>
                <td class="num">{formatValue(t.lastScrapeDuration, "seconds")}</td>
                <td class="small tone-text-bad">{t.lastError}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
