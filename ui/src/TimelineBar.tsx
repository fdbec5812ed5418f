import { useRef } from "react";
import type { RecordingTimeline } from "./generated/hub";
import { clock } from "./time";
import { place, type Mark } from "./timeline";

/** One camera's row on a timeline: what it recorded, or why there is nothing. */
export interface TimelineRow {
  camera: string;
  name: string;
  timeline: RecordingTimeline | null;
  problem: string | null;
}

/** What cameras recorded over `span` (spans, gaps, evidence locks), alarms and bookmarks as
 *  marks, and where the video stands; a click goes there (never past `latestMs`). The wall's
 *  playback and the browser's video views show the same bar. */
export function TimelineBar(props: {
  rows: TimelineRow[];
  marks: Mark[];
  span: { from: number; to: number };
  atMs: number | null;
  latestMs: number;
  onSeek: (atMs: number) => void;
}) {
  const { span } = props;
  const overlay = useRef<HTMLDivElement>(null);
  const bar = (from: string, to: string) => place(Date.parse(from), Date.parse(to), span);
  const head = props.atMs === null ? null : place(props.atMs, props.atMs + 1, span);
  return (
    <div
      className="playback-timeline"
      role="slider"
      aria-label="Recorded time: click to go there"
      aria-valuemin={span.from}
      aria-valuemax={span.to}
      aria-valuenow={props.atMs === null ? undefined : Math.round(props.atMs)}
      aria-valuetext={props.atMs === null ? undefined : clock(props.atMs)}
      onClick={(event) => {
        const box = overlay.current?.getBoundingClientRect();
        if (!box || box.width <= 0) return;
        const share = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
        props.onSeek(Math.round(Math.min(span.from + share * (span.to - span.from), props.latestMs)));
      }}
    >
      {props.rows.map((row) => (
        <div key={row.camera} className="timeline-row" data-camera={row.camera}>
          <span className="timeline-name">{row.name}</span>
          <div className="timeline-track">
            {row.timeline?.spans.map((s) => {
              const at = bar(s.from, s.to);
              return at && <span key={`s${s.from}`} className="span" style={at} />;
            })}
            {row.timeline?.gaps.map((g) => {
              const at = bar(g.from, g.to);
              return at && <span key={`g${g.from}`} className="gap" title={g.reason ?? "not recorded"} style={at} />;
            })}
            {row.timeline?.locks.map((l) => {
              const at = bar(l.from, l.to);
              return at && <span key={`l${l.id}`} className="lock" title={`Evidence lock: ${l.reason}`} style={at} />;
            })}
            {!row.timeline && <span className="timeline-none">{row.problem}</span>}
          </div>
        </div>
      ))}
      <div className="timeline-overlay" ref={overlay}>
        {props.marks.map((m) => {
          const at = place(m.atMs, m.atMs + 1, span);
          return (
            at && <span key={`${m.kind}-${m.id}`} className={`mark ${m.kind}`} data-mark={m.kind} title={`${clock(m.atMs)} ${m.label}`} style={{ left: at.left }} />
          );
        })}
        {head && <span className="playhead" style={{ left: head.left }} />}
      </div>
    </div>
  );
}
