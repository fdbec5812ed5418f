import { useEffect, useState } from "react";
import { healthRow } from "./status";
import { clock } from "./time";
import type { Transport } from "./transport";
import type { TileHealth } from "./generated/app";

/** Every stream on every wall: state, frame rate, bitrate, drops, reconnects, latency, and
 *  for recorded video where it started and where it is. */
export function HealthTable(props: { transport: Transport; names: Map<string, string> }) {
  const [rows, setRows] = useState<TileHealth[]>([]);
  useEffect(() => {
    let live = true;
    const poll = async () => {
      try {
        const health = await props.transport.call<TileHealth[]>("stream_health");
        if (live) setRows(health);
      } catch {
        // The next poll tries again; the table keeps its last rows.
      }
    };
    void poll();
    const timer = setInterval(poll, 2000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [props.transport]);
  return (
    <section className="panel" aria-labelledby="health-title">
      <h2 id="health-title">Stream health</h2>
      <table className="health">
        <thead>
          <tr>
            <th>Camera</th>
            <th>Tile</th>
            <th>State</th>
            <th>Decoder</th>
            <th>Size</th>
            <th>fps</th>
            <th>Bitrate</th>
            <th>Dropped</th>
            <th>Reconnects</th>
            <th>Latency</th>
            <th>Replay</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const row = healthRow(r.health);
            return (
              <tr
                key={`${r.wall}-${r.tile}`}
                className={row.problem ? "problem" : ""}
                data-wall={r.wall}
                data-tile={r.tile}
                data-replay-from={r.replay?.from_ms ?? undefined}
                data-replay-first-stamp={r.replay?.first_stamp_ms ?? undefined}
                data-replay-first-capture={r.replay?.first_capture_ms ?? undefined}
              >
                <td>{r.camera ? props.names.get(r.camera) ?? r.camera : r.health.label}</td>
                <td>
                  {r.wall} · {r.tile + 1}
                </td>
                <td>
                  {row.problem ? "▲ " : "● "}
                  {row.state}
                </td>
                <td>{r.health.decoder ?? "–"}</td>
                <td>{r.health.width ? `${r.health.width}×${r.health.height}` : "–"}</td>
                <td>{row.fps}</td>
                <td>{row.bitrate}</td>
                <td>{r.health.dropped}</td>
                <td>{r.health.reconnects}</td>
                <td>{row.latency}</td>
                <td>{r.replay ? replayText(r.replay.from_ms, r.replay.now_capture_ms) : "live"}</td>
              </tr>
            );
          })}
          {rows.length === 0 && (
            <tr>
              <td colSpan={11}>No stream is playing on a wall.</td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

/** "from hh:mm:ss, at hh:mm:ss": where a replay started and the capture time it shows now. */
function replayText(fromMs: number, nowMs: number | null): string {
  return `from ${clock(fromMs)}${nowMs === null ? "" : `, at ${clock(nowMs)}`}`;
}
