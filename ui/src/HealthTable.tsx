import { useEffect, useState } from "react";
import { healthRow } from "./status";
import type { Transport } from "./transport";
import type { TileHealth } from "./generated/app";

/** Every stream on every wall: state, frame rate, bitrate, drops, reconnects, latency. */
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
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const row = healthRow(r.health);
            return (
              <tr key={`${r.wall}-${r.tile}`} className={row.problem ? "problem" : ""}>
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
              </tr>
            );
          })}
          {rows.length === 0 && (
            <tr>
              <td colSpan={10}>No stream is playing on a wall.</td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
