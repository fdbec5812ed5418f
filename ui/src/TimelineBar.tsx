import { useRef, useState } from "react";
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

/** How far the arrow keys move the video on the bar (with Shift, a minute). */
const KEY_STEP_MS = 10_000;

/** What cameras recorded over `span` (spans, gaps, evidence locks), alarms and bookmarks as
 *  marks, and where the video stands; a click goes there, a drag scrubs (the playhead follows
 *  the pointer with its time, and the video goes where it is let go), the arrow keys move ten
 *  seconds (never past `latestMs`). The wall's playback and the browser's video views show the
 *  same bar. */
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
  // Where a drag stands, while it lasts.
  const [scrub, setScrub] = useState<number | null>(null);
  // Whether the click that follows a press was its drag's (seeked on release already).
  const pressed = useRef(false);
  const shownMs = scrub ?? props.atMs;
  const head = shownMs === null ? null : place(shownMs, shownMs + 1, span);
  const msAt = (clientX: number): number | null => {
    const box = overlay.current?.getBoundingClientRect();
    if (!box || box.width <= 0) return null;
    const share = Math.min(1, Math.max(0, (clientX - box.left) / box.width));
    return Math.round(Math.min(span.from + share * (span.to - span.from), props.latestMs));
  };
  return (
    <div
      className="playback-timeline"
      role="slider"
      tabIndex={0}
      aria-label="Recorded time: click or drag to go there, arrow keys move ten seconds"
      aria-valuemin={span.from}
      aria-valuemax={span.to}
      aria-valuenow={shownMs === null ? undefined : Math.round(shownMs)}
      aria-valuetext={shownMs === null ? undefined : clock(shownMs)}
      data-scrubbing={scrub !== null || undefined}
      onPointerDown={(event) => {
        if (event.button !== 0) return;
        pressed.current = true;
        try {
          event.currentTarget.setPointerCapture(event.pointerId);
        } catch {
          // A pointer the browser does not track (a synthetic one): the drag ends at the bar's edge.
        }
        setScrub(msAt(event.clientX));
      }}
      onPointerMove={(event) => {
        if (scrub !== null) setScrub(msAt(event.clientX) ?? scrub);
      }}
      onPointerUp={() => {
        if (scrub === null) return;
        // Where the bar said it was when let go (its time was shown), not read again.
        setScrub(null);
        props.onSeek(scrub);
      }}
      onPointerCancel={() => setScrub(null)}
      onLostPointerCapture={() => setScrub(null)}
      onClick={(event) => {
        // A click without a press before it (a keyboard's, an assistive tool's, a script's).
        if (pressed.current) {
          pressed.current = false;
          return;
        }
        const to = msAt(event.clientX);
        if (to !== null) props.onSeek(to);
      }}
      onKeyDown={(event) => {
        if ((event.key !== "ArrowLeft" && event.key !== "ArrowRight") || props.atMs === null) return;
        event.preventDefault();
        event.stopPropagation();
        // A held key moves once: each move opens the video anew.
        if (event.repeat) return;
        const by = (event.shiftKey ? 6 : 1) * KEY_STEP_MS * (event.key === "ArrowLeft" ? -1 : 1);
        props.onSeek(Math.round(Math.min(props.atMs + by, props.latestMs)));
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
        {head && (
          <span className="playhead" style={{ left: head.left }}>
            {scrub !== null && <span className="scrub-time">{clock(scrub)}</span>}
          </span>
        )}
      </div>
    </div>
  );
}
