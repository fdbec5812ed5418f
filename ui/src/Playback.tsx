import { useEffect, useMemo, useRef, useState } from "react";
import type { PlaybackControl, PlaybackView } from "./generated/app";
import type { Alarm, RecordingTimeline } from "./generated/hub";
import { clock } from "./time";
import { RATES, clockAt, jump, rateLabel, windowAround, type Mark } from "./timeline";
import { READ_MS, REFRESH_MS, iso, readWindow, useMarks } from "./useMarks";
import { TimelineBar, type TimelineRow } from "./TimelineBar";

/** How much time the bar shows around the clock. */
const SPAN_MS = 10 * 60_000;

/** The wall's playback: where its clock stands, play and pause, speeds, a frame step, jumps
 *  to the previous or next alarm or bookmark of its cameras, and a timeline of what each
 *  camera has recorded (spans, gaps, evidence locks) to click on to go there. Keys: Space
 *  plays or pauses, `.` and `,` step a frame forward and back, `[` and `]` jump between marks. */
export function Playback(props: {
  playback: PlaybackView;
  /** The wall's cameras with their sites, in tile order. */
  cameras: { id: string; site: string; name: string }[];
  /** Alarms the console holds now (the newest come live from the feed). */
  liveAlarms: Alarm[];
  hubGet: <T>(path: string) => Promise<T>;
  onControl: (control: PlaybackControl) => void;
  onSeek: (atMs: number) => void;
  /** A frame back: the tile showing the latest frame shows the one before it. */
  onStepBack: () => void;
  onLive: () => void;
}) {
  const { playback } = props;
  // The clock between updates: from the view and when it came.
  const since = useMemo(() => Date.now(), [playback]);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 200);
    return () => window.clearInterval(timer);
  }, []);
  const atMs = clockAt(playback, since, Math.max(now, since), now);
  const span = windowAround(atMs, now, SPAN_MS);

  const [rows, setRows] = useState<TimelineRow[]>([]);
  const cameraKey = props.cameras.map((c) => `${c.site}/${c.id}`).join(",");
  // The same cameras are the same list, however often the console draws.
  const cameras = useMemo(() => props.cameras, [cameraKey]);
  // Read again when the clock moves into another half hour, and now and then.
  const readKey = Math.floor(atMs / (READ_MS / 2));
  const refresh = Math.floor(now / REFRESH_MS);
  // The console passes a new function each time it draws: the reads follow what is asked.
  const hubGetNow = useRef(props.hubGet);
  hubGetNow.current = props.hubGet;
  useEffect(() => {
    const hubGet = <T,>(path: string) => hubGetNow.current<T>(path);
    let current = true;
    const { from, to } = readWindow(atMs, Date.now());
    const range = `from=${iso(from)}&to=${iso(to)}`;
    const read = async (site: string, camera: string): Promise<Pick<TimelineRow, "timeline" | "problem">> => {
      let problem = "no recording";
      for (const stream of ["sub", "main"]) {
        try {
          const path = `/sites/${encodeURIComponent(site)}/cameras/${encodeURIComponent(camera)}/recording/${stream}/timeline?${range}`;
          return { timeline: await hubGet<RecordingTimeline>(path), problem: null };
        } catch (error) {
          // Not this stream (the other, by its code), or the hub cannot say (its words).
          const { code, message } = error as { code?: string; message?: string };
          const notHere = !!code && /(^|_)(not_found|conflict)$/.test(code);
          if (!notHere && message) problem = message;
        }
      }
      return { timeline: null, problem };
    };
    void Promise.all(cameras.map(async (c) => ({ camera: c.id, name: c.name, ...(await read(c.site, c.id)) }))).then(
      (read) => current && setRows(read),
    );
    return () => {
      current = false;
    };
    // `atMs` counts through `readKey`: the same half hour is the same read.
  }, [cameras, readKey, refresh]);

  const marks = useMarks(props.hubGet, cameras, atMs, props.liveAlarms);
  const go = (mark: Mark | null) => mark && props.onSeek(mark.atMs);

  const onKey = (event: React.KeyboardEvent) => {
    if (event.key === " ") props.onControl(playback.paused ? { kind: "play" } : { kind: "pause" });
    else if (event.key === ".") props.onControl({ kind: "step" });
    else if (event.key === ",") props.onStepBack();
    else if (event.key === "[") go(jump(marks, atMs, "previous"));
    else if (event.key === "]") go(jump(marks, atMs, "next"));
    else return;
    event.preventDefault();
  };

  return (
    <section
      className="playback"
      aria-label="Wall playback"
      tabIndex={0}
      onKeyDown={onKey}
      data-playback-at={Math.round(atMs)}
      data-rate={playback.rate}
      data-paused={playback.paused}
      data-starting={playback.starting}
    >
      <div className="playback-controls">
        <strong className="playback-clock" title={new Date(atMs).toISOString()}>
          ◀ PLAYBACK {clock(atMs)}
          {playback.starting ? " (starting…)" : ""}
        </strong>
        <button type="button" data-action="playback-previous" title="Previous alarm or bookmark ([)" onClick={() => go(jump(marks, atMs, "previous"))}>
          ⇤ Mark
        </button>
        {playback.paused ? (
          <button type="button" data-action="playback-play" title="Play (Space)" onClick={() => props.onControl({ kind: "play" })}>
            ▶ Play
          </button>
        ) : (
          <button type="button" data-action="playback-pause" title="Pause (Space)" onClick={() => props.onControl({ kind: "pause" })}>
            ‖ Pause
          </button>
        )}
        <button type="button" data-action="playback-step-back" title="Previous frame (,)" onClick={props.onStepBack}>
          −1 frame
        </button>
        <button type="button" data-action="playback-step" title="Next frame (.)" onClick={() => props.onControl({ kind: "step" })}>
          +1 frame
        </button>
        <button type="button" data-action="playback-next" title="Next alarm or bookmark (])" onClick={() => go(jump(marks, atMs, "next"))}>
          Mark ⇥
        </button>
        <span className="playback-rates" role="group" aria-label="Speed">
          {RATES.map((rate) => (
            <button key={rate} type="button" data-rate={rate} aria-pressed={playback.rate === rate} onClick={() => props.onControl({ kind: "rate", rate })}>
              {rateLabel(rate)}
            </button>
          ))}
        </span>
        <button type="button" data-action="playback-live" onClick={props.onLive}>
          Back to live
        </button>
      </div>
      <TimelineBar rows={rows} marks={marks} span={span} atMs={atMs} latestMs={now} onSeek={props.onSeek} />
    </section>
  );
}
