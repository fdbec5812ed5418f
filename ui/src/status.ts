// Words and symbols for states, so no state is told by colour alone.

import type { ConnectionState, StreamHealth } from "./generated/app";

export function connectionLabel(state: ConnectionState, now: number): { symbol: string; text: string } {
  const since = elapsed(now - state.since_ms);
  switch (state.link) {
    case "online":
      return { symbol: "●", text: `Online · ${state.hub ?? ""}` };
    case "connecting":
      return { symbol: "◌", text: `Connecting to ${state.hub ?? "the hub"}…` };
    case "reconnecting":
      return {
        symbol: "▲",
        text: `Hub unreachable for ${since} · attempt ${state.attempt}${state.detail ? ` · ${state.detail}` : ""}`,
      };
    case "signed-out":
      return { symbol: "○", text: state.detail ? `Signed out · ${state.detail}` : "Signed out" };
  }
}

/** "45 s", "3 min", "2 h 5 min". */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function healthRow(health: StreamHealth): {
  state: string;
  fps: string;
  bitrate: string;
  latency: string;
  problem: boolean;
} {
  return {
    state: health.state.replace("_", " "),
    fps: health.fps.toFixed(1),
    bitrate: health.bitrate_kbps >= 1000 ? `${(health.bitrate_kbps / 1000).toFixed(1)} Mb/s` : `${health.bitrate_kbps.toFixed(0)} kb/s`,
    latency: health.latency_ms == null ? "–" : `${health.latency_ms} ms`,
    problem: health.state !== "live",
  };
}
