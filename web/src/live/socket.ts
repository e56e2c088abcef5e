// One WebSocket to /api/v1/ws for the whole app: subscriptions by topic, heartbeat watchdog, reconnect
// with backoff. Pages call useLive("alerts", reload) and change on screen without a reload.
import { useEffect, useRef, useState } from "preact/hooks";

export type Topic = "alerts" | "health" | "targets";
export interface LiveEvent {
  topic: Topic;
  event: string;
  at: number;
  data: Record<string, unknown>;
}
type Handler = (e: LiveEvent) => void;

const handlers = new Map<Topic, Set<Handler>>();
const statusListeners = new Set<(s: LiveStatus) => void>();
export type LiveStatus = "connecting" | "live" | "offline";

let socket: WebSocket | null = null;
let status: LiveStatus = "offline";
let attempts = 0;
let watchdog: ReturnType<typeof setTimeout> | undefined;
let retry: ReturnType<typeof setTimeout> | undefined;
let enabled = false;
const HEARTBEAT_GRACE_MS = 45_000;

export function backoff(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
}

function setStatus(s: LiveStatus): void {
  status = s;
  statusListeners.forEach((l) => l(s));
}

function topics(): Topic[] {
  return [...handlers.entries()].filter(([, set]) => set.size > 0).map(([t]) => t);
}

function subscribe(): void {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "subscribe", topics: topics() }));
}

function armWatchdog(): void {
  clearTimeout(watchdog);
  watchdog = setTimeout(() => socket?.close(4000, "no heartbeat"), HEARTBEAT_GRACE_MS);
}

export function connect(): void {
  enabled = true;
  if (socket && socket.readyState <= WebSocket.OPEN) return;
  clearTimeout(retry);
  setStatus("connecting");
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/ws`);
  socket = ws;
  ws.onopen = () => {
    attempts = 0;
    setStatus("live");
    subscribe();
    armWatchdog();
  };
  ws.onmessage = (m) => {
    armWatchdog();
    let msg: { type: string } & Partial<LiveEvent>;
    try {
      msg = JSON.parse(m.data as string);
    } catch {
      return;
    }
    if (msg.type === "event" && msg.topic) handlers.get(msg.topic)?.forEach((h) => h(msg as LiveEvent));
  };
  ws.onclose = () => {
    clearTimeout(watchdog);
    if (socket !== ws) return;
    socket = null;
    setStatus("offline");
    if (enabled) retry = setTimeout(connect, backoff(attempts++));
  };
}

export function disconnect(): void {
  enabled = false;
  clearTimeout(retry);
  socket?.close(1000, "logout");
  socket = null;
  setStatus("offline");
}

export function on(topic: Topic, handler: Handler): () => void {
  if (!handlers.has(topic)) handlers.set(topic, new Set());
  handlers.get(topic)!.add(handler);
  subscribe();
  return () => {
    handlers.get(topic)!.delete(handler);
    subscribe();
  };
}

/** Run `handler` on every event of a topic while the component is mounted. */
export function useLive(topic: Topic, handler: Handler): void {
  const saved = useRef(handler);
  saved.current = handler;
  useEffect(() => on(topic, (e) => saved.current(e)), [topic]);
}

export function useLiveStatus(): LiveStatus {
  const [s, set] = useState(status);
  useEffect(() => {
    statusListeners.add(set);
    return () => void statusListeners.delete(set);
  }, []);
  return s;
}
