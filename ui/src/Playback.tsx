import { useEffect, useMemo, useRef, useState } from "react";
import type { PlaybackControl, PlaybackView } from "./generated/app";
import type { Alarm, Bookmark, RecordingTimeline } from "./generated/hub";
import { clock } from "./time";
import { RATES, clockAt, jump, marksOf, rateLabel, windowAround, type Mark } from "./timeline";

/** How much time the bar shows around the clock. */
const SPAN_MS = 10 * 60_000;
/** How often what is recorded is read again while the wall plays back. */
const REFRESH_MS = 10_000;

interface Row {
  camera: string;
  name: string;
  timeline: RecordingTimeline | null;
}

/** The wall's playback: where its clock stands, play and pause, speeds, a frame step, jumps
 *  to the previous or next alarm or bookmark of its cameras, and a timeline of what each
 *  camera has recorded (spans, gaps, evidence locks) to click on to go there. Keys: Space
 *  plays or pauses, `.` steps a frame, `[` and `]` jump between marks. */
export function Playback(props: {
  playback: PlaybackView;
  /** The wall's cameras with their sites, in tile order. */
  cameras: { id: string; site: string; name: string }[];
  alarms: Alarm[];
  hubGet: <T>(path: string) => Promise<T>;
  onControl: (control: PlaybackControl) => void;
  onSeek: (atMs: number) => void;
  onLive: () => void;
}) {
  const { playback } = props;
  // The clock between updates: from the view and when it came.
  const [since, setSince] = useState(() => Date.now());
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => setSince(Date.now()), [playback.at_ms, playback.rate, playback.paused]);
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 200);
    return () => window.clearInterval(timer);
  }, []);
  const atMs = clockAt(playback, since, now, now);
  const span = windowAround(atMs, now, SPAN_MS);

  const [rows, setRows] = useState<Row[]>([]);
  const overlay = useRef<HTMLDivElement>(null);
  const [bookmarks, setBookmarks] = useState<Bookmark[]>([]);
  const cameraKey = props.cameras.map((c) => `${c.site}/${c.id}`).join(",");
  // What is recorded, read again now and then (the window moves with the clock).
  const windowKey = Math.floor(span.from / REFRESH_MS);
  useEffect(() => {
    let current = true;
    const range = `from=${encodeURIComponent(new Date(span.from).toISOString())}&to=${encodeURIComponent(new Date(span.to).toISOString())}`;
    const read = async (site: string, camera: string): Promise<RecordingTimeline | null> => {
      for (const stream of ["sub", "main"]) {
        try {
          return await props.hubGet<RecordingTimeline>(
            `/sites/${encodeURIComponent(site)}/cameras/${encodeURIComponent(camera)}/recording/${stream}/timeline?${range}`,
          );
        } catch {
          // Not this stream: the other.
        }
      }
      return null;
    };
    void Promise.all(props.cameras.map(async (c) => ({ camera: c.id, name: c.name, timeline: await read(c.site, c.id) }))).then(
      (read) => current && setRows(read),
    );
    const sites = [...new Set(props.cameras.map((c) => c.site))];
    void Promise.all(sites.map((site) => props.hubGet<Bookmark[]>(`/sites/${encodeURIComponent(site)}/bookmarks`).catch(() => [])))
      .then((lists) => current && setBookmarks(lists.flat()));
    return () => {
      current = false;
    };
  }, [cameraKey, windowKey]);

  const marks = useMemo(
    () => marksOf(props.alarms, bookmarks, props.cameras.map((c) => c.id)),
    [props.alarms, bookmarks, props.cameras],
  );
  const x = (ms: number) => `${(((ms - span.from) / (span.to - span.from)) * 100).toFixed(3)}%`;
  const width = (from: number, to: number) => `${(((Math.min(to, span.to) - Math.max(from, span.from)) / (span.to - span.from)) * 100).toFixed(3)}%`;
  const go = (mark: Mark | null) => mark && props.onSeek(mark.atMs);

  const onKey = (event: React.KeyboardEvent) => {
    if (event.key === " ") props.onControl(playback.paused ? { kind: "play" } : { kind: "pause" });
    else if (event.key === ".") props.onControl({ kind: "step" });
    else if (event.key === "[") go(jump(marks, atMs, "previous"));
    else if (event.key === "]") go(jump(marks, atMs, "next"));
    else return;
    event.preventDefault();
  };

  return (
    <section className="playback" aria-label="Wall playback" tabIndex={0} onKeyDown={onKey} data-playback-at={Math.round(atMs)} data-rate={playback.rate} data-paused={playback.paused}>
      <div className="playback-controls">
        <strong className="playback-clock" title={new Date(atMs).toISOString()}>
          ◀ PLAYBACK {clock(atMs)}
        </strong>
        <button type="button" data-action="playback-previous" title="Previous alarm or bookmark ([)" onClick={() => go(jump(marks, atMs, "previous"))}>
          ⏮
        </button>
        {playback.paused ? (
          <button type="button" data-action="playback-play" title="Play (Space)" onClick={() => props.onControl({ kind: "play" })}>
            ▶ Play
          </button>
        ) : (
          <button type="button" data-action="playback-pause" title="Pause (Space)" onClick={() => props.onControl({ kind: "pause" })}>
            ⏸ Pause
          </button>
        )}
        <button type="button" data-action="playback-step" title="Next frame (.)" onClick={() => props.onControl({ kind: "step" })}>
          ⏭ Frame
        </button>
        <button type="button" data-action="playback-next" title="Next alarm or bookmark (])" onClick={() => go(jump(marks, atMs, "next"))}>
          ⏭
        </button>
        <span className="playback-rates" role="group" aria-label="Speed">
          {RATES.map((rate) => (
            <button
              key={rate}
              type="button"
              data-rate={rate}
              aria-pressed={playback.rate === rate}
              onClick={() => props.onControl({ kind: "rate", rate })}
            >
              {rateLabel(rate)}
            </button>
          ))}
        </span>
        <button type="button" data-action="playback-live" onClick={props.onLive}>
          Back to live
        </button>
      </div>
      <div
        className="timeline"
        role="slider"
        aria-label="Recorded time: click to go there"
        aria-valuemin={span.from}
        aria-valuemax={span.to}
        aria-valuenow={Math.round(atMs)}
        aria-valuetext={clock(atMs)}
        onClick={(event) => {
          const box = overlay.current?.getBoundingClientRect();
          if (!box || box.width <= 0) return;
          const at = span.from + ((event.clientX - box.left) / box.width) * (span.to - span.from);
          props.onSeek(Math.round(Math.min(at, now)));
        }}
      >
        {rows.map((row) => (
          <div key={row.camera} className="timeline-row" data-camera={row.camera}>
            <span className="timeline-name">{row.name}</span>
            <div className="timeline-track">
              {row.timeline?.spans.map((s) => (
                <span key={`s${s.from}`} className="span" style={{ left: x(Date.parse(s.from)), width: width(Date.parse(s.from), Date.parse(s.to)) }} />
              ))}
              {row.timeline?.gaps.map((g) => (
                <span
                  key={`g${g.from}`}
                  className="gap"
                  title={g.reason ?? "not recorded"}
                  style={{ left: x(Date.parse(g.from)), width: width(Date.parse(g.from), Date.parse(g.to)) }}
                />
              ))}
              {row.timeline?.locks.map((l) => (
                <span key={`l${l.id}`} className="lock" title={`Evidence lock: ${l.reason}`} style={{ left: x(Date.parse(l.from)), width: width(Date.parse(l.from), Date.parse(l.to)) }} />
              ))}
              {!row.timeline && <span className="timeline-none">no recording</span>}
            </div>
          </div>
        ))}
        <div className="timeline-overlay" ref={overlay}>
          {marks
            .filter((m) => m.atMs >= span.from && m.atMs <= span.to)
            .map((m) => (
              <span key={`${m.kind}-${m.id}`} className={`mark ${m.kind}`} data-mark={m.kind} title={`${clock(m.atMs)} ${m.label}`} style={{ left: x(m.atMs) }} />
            ))}
          <span className="playhead" style={{ left: x(atMs) }} />
        </div>
      </div>
    </section>
  );
}
