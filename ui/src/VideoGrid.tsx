import { useEffect, useMemo, useRef, useState } from "react";
import { PlayerError, RecordingPlayer, mediaPath, timelinePath } from "./player";
import { TimelineBar, type TimelineRow } from "./TimelineBar";
import type { RecordingTimeline } from "./generated/hub";
import { windowAround } from "./timeline";
import { clock, when } from "./time";
import type { SiteTree } from "./generated/app";

/** A camera as the video grid lists it. */
interface Choice {
  site: string;
  id: string;
  name: string;
}

/** How far behind "now" the near-live view starts: the recorder's newest segment is about ten
 *  seconds old. */
const NEAR_LIVE_MS = 15_000;

/** How much time a view's timeline shows around what it plays. */
const SPAN_MS = 30 * 60_000;

/** `Date` as a `datetime-local` value (the browser's local time, to the second). */
function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
}

/** Video in the browser (managers without the desktop app): up to 2x2 cameras, each recorded
 *  from a chosen instant or near live, through the hub with the session alone. */
export function VideoGrid(props: { sites: SiteTree[] }) {
  const cameras = useMemo<Choice[]>(
    () => props.sites.flatMap((s) => s.floors.flatMap((f) => f.cameras.map((c) => ({ site: s.id, id: c.id, name: c.name })))),
    [props.sites],
  );
  const [grid, setGrid] = useState<1 | 4>(1);
  return (
    <section className="panel video-grid" aria-labelledby="video-title">
      <h2 id="video-title">Video</h2>
      <div className="presets" role="toolbar" aria-label="Video layout">
        <button type="button" aria-pressed={grid === 1} data-grid="1" onClick={() => setGrid(1)}>
          1
        </button>
        <button type="button" aria-pressed={grid === 4} data-grid="4" onClick={() => setGrid(4)}>
          2x2
        </button>
      </div>
      <div className={`video-cells grid-${grid}`}>
        {Array.from({ length: grid }, (_, i) => (
          <VideoCell key={i} index={i} cameras={cameras} single={grid === 1} />
        ))}
      </div>
      <p className="hint">Recorded video comes from the camera's recorder through the hub; near live is about ten seconds behind.</p>
    </section>
  );
}

function VideoCell(props: { index: number; cameras: Choice[]; single: boolean }) {
  const video = useRef<HTMLVideoElement>(null);
  const player = useRef<RecordingPlayer | null>(null);
  const key = (c: Choice) => `${c.site}/${c.id}`;
  const [camera, setCamera] = useState(() => {
    const first = props.cameras[props.index];
    return first ? key(first) : "";
  });
  // Each show() is a generation: one started later wins, an earlier one lets go quietly.
  const generation = useRef(0);
  const [at, setAt] = useState(() => localInput(Date.now() - 60_000));
  const [status, setStatus] = useState<string>("Choose a camera and an instant.");
  const [problem, setProblem] = useState<string | null>(null);
  const [shownMs, setShownMs] = useState<number | null>(null);
  const [captureMs, setCaptureMs] = useState<number | null>(null);
  const [playing, setPlaying] = useState(false);
  const [stream, setStream] = useState<string | null>(null);
  const [row, setRow] = useState<TimelineRow | null>(null);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 30_000);
    return () => window.clearInterval(timer);
  }, []);
  const atMs = captureMs ?? shownMs;
  const span = windowAround(atMs ?? now, now, SPAN_MS);
  // What the camera recorded around what plays: read again when that moves on by a quarter of
  // the bar, and now and then (the recording goes on).
  const readKey = atMs === null ? null : Math.floor(atMs / (SPAN_MS / 4));
  useEffect(() => {
    const choice = props.cameras.find((c) => key(c) === camera);
    if (!choice || !stream || readKey === null) return;
    let current = true;
    const from = readKey * (SPAN_MS / 4) - SPAN_MS;
    const path = timelinePath(choice.site, choice.id, stream, from, Math.min(Date.now(), from + 2 * SPAN_MS));
    void fetch(path, { credentials: "same-origin" })
      .then(async (answer) => {
        if (!answer.ok) throw new Error(((await answer.json().catch(() => null)) as { message?: string } | null)?.message ?? `the hub answered ${answer.status}`);
        return (await answer.json()) as RecordingTimeline;
      })
      .then((timeline) => current && setRow({ camera: choice.id, name: choice.name, timeline, problem: null }))
      .catch((error: Error) => current && setRow({ camera: choice.id, name: choice.name, timeline: null, problem: error.message }));
    return () => {
      current = false;
    };
  }, [camera, stream, readKey, now]);

  useEffect(() => () => player.current?.close(), []);
  useEffect(() => {
    const element = video.current;
    if (!element) return;
    const tick = () => setCaptureMs(player.current?.captureNow() ?? null);
    element.addEventListener("timeupdate", tick);
    element.addEventListener("seeked", tick);
    return () => {
      element.removeEventListener("timeupdate", tick);
      element.removeEventListener("seeked", tick);
    };
  }, []);

  const show = async (fromMs: number, thenPlay: boolean) => {
    const choice = props.cameras.find((c) => key(c) === camera);
    const element = video.current;
    if (!choice || !element) return;
    const mine = ++generation.current;
    player.current?.close();
    player.current = null;
    setProblem(null);
    setShownMs(null);
    setPlaying(false);
    setStatus(`Loading ${choice.name} from ${when(fromMs)}…`);
    // The main stream where it is recorded, else the sub-stream.
    for (const stream of ["main", "sub"]) {
      const next = new RecordingPlayer(
        element,
        (from) => mediaPath(choice.site, choice.id, stream, from),
        (error) => generation.current === mine && setProblem(error.message),
      );
      player.current = next;
      try {
        await next.open(fromMs);
        if (generation.current !== mine) return next.close();
        setShownMs(fromMs);
        setStream(stream);
        setStatus(`${choice.name} (${stream} stream), recorded`);
        if (thenPlay) {
          await element.play();
          setPlaying(true);
        }
        return;
      } catch (e) {
        if (generation.current !== mine) return;
        next.close();
        const error = e instanceof PlayerError ? e : new PlayerError("unexpected", String(e));
        if (error.code === "not_found" && stream === "main") continue;
        setProblem(error.message);
        setStatus(`${choice.name}: no video`);
        return;
      }
    }
  };

  const toggle = async () => {
    const element = video.current;
    if (!element || shownMs === null) return;
    if (element.paused) {
      await element.play();
      setPlaying(true);
    } else {
      element.pause();
      setPlaying(false);
    }
  };

  return (
    <div className="video-cell" data-cell={props.index}>
      <div className="row">
        <select aria-label={`Camera of view ${props.index + 1}`} name="camera" value={camera} onChange={(e) => setCamera(e.target.value)}>
          <option value="">Camera…</option>
          {props.cameras.map((c) => (
            <option key={key(c)} value={key(c)}>
              {c.name}
            </option>
          ))}
        </select>
        <input type="datetime-local" step="1" name="at" aria-label="Recorded at" value={at} onChange={(e) => setAt(e.target.value)} />
        <button type="button" data-action="show" disabled={!camera || !at} onClick={() => void show(new Date(at).getTime(), false)}>
          Show
        </button>
        <button type="button" data-action="near-live" disabled={!camera} onClick={() => void show(Date.now() - NEAR_LIVE_MS, true)}>
          Near live
        </button>
        <button type="button" data-action="play" disabled={shownMs === null} onClick={() => void toggle()}>
          {playing ? "Pause" : "Play"}
        </button>
      </div>
      <video
        ref={video}
        muted
        playsInline
        className={props.single ? "native" : ""}
        data-shown-ms={shownMs ?? undefined}
        aria-label={status}
        onLoadedMetadata={(e) => {
          if (props.single) e.currentTarget.style.width = `${e.currentTarget.videoWidth}px`;
        }}
      />
      {row && shownMs !== null && (
        <TimelineBar rows={[row]} marks={[]} span={span} atMs={atMs} latestMs={now} onSeek={(ms) => void show(ms, playing)} />
      )}
      <p className="note" data-status>
        {status}
        {captureMs !== null ? ` · captured ${clock(captureMs)}` : ""}
      </p>
      {problem && (
        <p className="error" role="alert" data-problem>
          {problem}
        </p>
      )}
    </div>
  );
}
