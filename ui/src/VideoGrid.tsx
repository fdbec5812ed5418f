import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { gridNow, keepTo, seekWithin, setPlaying, setRate, step, type GridClock } from "./gridClock";
import { LivePlayer, PlayerError, RecordingPlayer, livePath, mediaPath, timelinePath } from "./player";
import { TimelineBar, type TimelineRow } from "./TimelineBar";
import type { Alarm, RecordingTimeline } from "./generated/hub";
import { RATES, jump, rateLabel, windowAround, type Mark } from "./timeline";
import { clock, when } from "./time";
import { useMarks } from "./useMarks";
import type { SiteTree } from "./generated/app";

/** A camera as the video grid lists it. */
interface Choice {
  site: string;
  id: string;
  name: string;
}

/** How much time a view's timeline shows around what it plays. */
const SPAN_MS = 30 * 60_000;

/** How often a view following the grid's clock checks its place on it. */
const KEEP_EVERY_MS = 500;

/** How soon a view far from the grid's clock may be shown again where the clock is. */
const JUMP_AGAIN_MS = 5_000;

/** A frame interval for the grid's clock (the slowest stream the recorders keep, 15 fps). */
const FRAME_MS = 66;

/** What the grid asks of its views: shown from an instant, played, paused; `seq` tells one
 *  request from the next. */
interface GridCommand {
  seq: number;
  kind: "show" | "play" | "pause";
}

/** Cameras asked for from elsewhere in the console (a bookmark played, an alarm replayed):
 *  one is shown in a single view at the instant, two to four in the 2x2 grid on its clock,
 *  paused there; `seq` tells one ask from the next. */
export interface VideoAsk {
  seq: number;
  site: string;
  cameras: string[];
  atMs: number;
}

/** What a view is asked to show: `camera` of `site` at `atMs` (none: it lets go of its own),
 *  standing on the grid's clock when `follow`. */
interface CellAsk {
  seq: number;
  site: string;
  camera: string | null;
  atMs: number;
  follow: boolean;
}

/** What the marks, speeds and frame steps of a view or of the grid act on. */
interface Controls {
  marks: Mark[];
  atMs: number | null;
  rate: number;
  /** Whether a rate can be chosen (recorded video; live plays as it comes). */
  canRate: boolean;
  onMark: (mark: Mark) => void;
  onStep: (frames: number) => void;
  onRate: (rate: number) => void;
}

/** Previous and next alarm or bookmark, a frame back and forward, and the speeds. */
function PlaybackControls(props: Controls & { label: string; step?: { back: string; forward: string; title: string } }) {
  const go = (direction: "previous" | "next") => {
    const mark = props.atMs === null ? null : jump(props.marks, props.atMs, direction);
    if (mark) props.onMark(mark);
  };
  const disabled = props.atMs === null;
  return (
    <div className="row playback-controls" role="toolbar" aria-label={props.label}>
      <button type="button" data-action="previous-mark" disabled={disabled} title="Previous alarm or bookmark" onClick={() => go("previous")}>
        ⇤ Mark
      </button>
      <button type="button" data-action="frame-back" disabled={disabled || !props.canRate} title={`${props.step?.title ?? "A frame"} back (paused)`} onClick={() => props.onStep(-1)}>
        {props.step?.back ?? "−1 frame"}
      </button>
      <button type="button" data-action="frame-forward" disabled={disabled || !props.canRate} title={`${props.step?.title ?? "A frame"} forward (paused)`} onClick={() => props.onStep(1)}>
        {props.step?.forward ?? "+1 frame"}
      </button>
      <button type="button" data-action="next-mark" disabled={disabled} title="Next alarm or bookmark" onClick={() => go("next")}>
        Mark ⇥
      </button>
      <span className="playback-rates" role="group" aria-label="Speed">
        {RATES.map((rate) => (
          <button key={rate} type="button" data-rate={rate} aria-pressed={props.rate === rate} disabled={!props.canRate} onClick={() => props.onRate(rate)}>
            {rateLabel(rate)}
          </button>
        ))}
      </span>
    </div>
  );
}

/** What `element` has buffered, as start and end in seconds. */
function bufferedRanges(element: HTMLVideoElement): [number, number][] {
  return Array.from({ length: element.buffered.length }, (_, i) => [element.buffered.start(i), element.buffered.end(i)]);
}

/** `Date` as a `datetime-local` value (the browser's local time, to the second). */
function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
}

/** Video in the browser (managers without the desktop app): up to 2x2 cameras, each live or
 *  recorded from a chosen instant, through the hub with the session alone. */
export function VideoGrid(props: {
  sites: SiteTree[];
  ask?: VideoAsk | null;
  /** Reads from the hub (alarms and bookmarks for the timelines' marks). */
  hubGet: <T>(path: string) => Promise<T>;
  /** Alarms the console holds now (the newest come live from the feed). */
  alarms: Alarm[];
}) {
  const cameras = useMemo<Choice[]>(
    () => props.sites.flatMap((s) => s.floors.flatMap((f) => f.cameras.map((c) => ({ site: s.id, id: c.id, name: c.name })))),
    [props.sites],
  );
  const [grid, setGrid] = useState<1 | 4>(1);
  // One clock over the views of the 2x2 grid.
  const [shared, setShared] = useState<GridClock | null>(null);
  const [command, setCommand] = useState<GridCommand>({ seq: 0, kind: "pause" });
  const [at, setAt] = useState(() => localInput(Date.now() - 60_000));
  const [rows, setRows] = useState<(TimelineRow | null)[]>([null, null, null, null]);
  const [now, setNow] = useState(() => Date.now());
  // Cameras asked for elsewhere: one in a single view; more in the grid, each in a view on the
  // grid's clock, stood at the instant (each view shows its camera there and joins the clock),
  // and the views the ask does not cover let go of theirs.
  const [cellAsks, setCellAsks] = useState<(CellAsk | null)[]>([null, null, null, null]);
  useEffect(() => {
    const ask = props.ask;
    if (!ask) return;
    const several = ask.cameras.length > 1;
    setGrid(several ? 4 : 1);
    if (several) {
      setAt(localInput(ask.atMs));
      setShared((was) => ({ atMs: ask.atMs, sinceMs: Date.now(), playing: false, rate: was?.rate ?? 1 }));
    }
    setCellAsks([0, 1, 2, 3].map((i) => ({ seq: ask.seq, site: ask.site, camera: ask.cameras[i] ?? null, atMs: ask.atMs, follow: several })));
  }, [props.ask?.seq]);
  // The clock's time shown moves each second while it plays; the bar's end now and then.
  const ticking = shared?.playing ?? false;
  useEffect(() => {
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), ticking ? 1_000 : 30_000);
    return () => window.clearInterval(timer);
  }, [ticking]);
  const ask = (kind: GridCommand["kind"]) => setCommand((c) => ({ seq: c.seq + 1, kind }));
  // Shown together from an instant, paused there (each view takes its own time to open);
  // "Play all" then runs them together.
  const showAll = (atMs: number) => {
    setShared((was) => ({ atMs, sinceMs: Date.now(), playing: false, rate: was?.rate ?? 1 }));
    ask("show");
  };
  // A frame step or a speed: every view stands, or plays, where the clock says.
  const stepAll = (frames: number) => {
    if (!shared) return;
    setShared(step(shared, frames, FRAME_MS, Date.now()));
    ask("pause");
  };
  const rateAll = (rate: number) => {
    if (!shared) return;
    setShared(setRate(shared, rate, Date.now()));
    ask(shared.playing ? "play" : "pause");
  };
  const playAll = () => {
    if (!shared) return;
    const playing = !shared.playing;
    setShared(setPlaying(shared, playing, Date.now()));
    ask(playing ? "play" : "pause");
  };
  const onRow = useCallback((index: number, row: TimelineRow | null) => setRows((now) => now.map((r, i) => (i === index ? row : r))), []);
  const gridMs = shared ? gridNow(shared, now) : null;
  const shownRows = rows.filter((r): r is TimelineRow => r !== null);
  const [choices, setChoices] = useState<(Choice | null)[]>([null, null, null, null]);
  const onChoice = useCallback((index: number, choice: Choice | null) => setChoices((now) => now.map((c, i) => (i === index ? choice : c))), []);
  const gridMarks = useMarks(
    props.hubGet,
    grid === 4 ? choices.filter((c): c is Choice => c !== null) : [],
    gridMs,
    props.alarms,
  );
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
      {grid === 4 && (
        <div className="grid-clock" role="group" aria-label="All four views on one clock">
          <div className="row">
            <input type="datetime-local" step="1" name="grid-at" aria-label="All views at" value={at} onChange={(e) => setAt(e.target.value)} />
            <button type="button" data-action="show-all" disabled={!at} onClick={() => showAll(new Date(at).getTime())}>
              Show all
            </button>
            <button type="button" data-action="play-all" disabled={!shared} data-playing={shared?.playing ?? false} onClick={playAll}>
              {shared?.playing ? "Pause all" : "Play all"}
            </button>
            {gridMs !== null && <span className="note">All views at {clock(gridMs)}</span>}
          </div>
          <PlaybackControls
            label="All four views"
            // The views' streams may differ in rate: the clock steps a frame of the slowest.
            step={{ back: "−1/15 s", forward: "+1/15 s", title: "A fifteenth of a second (a frame of the slowest stream)" }}
            marks={gridMarks}
            atMs={gridMs}
            rate={shared?.rate ?? 1}
            canRate={shared !== null}
            onMark={(mark) => showAll(mark.atMs)}
            onStep={stepAll}
            onRate={rateAll}
          />
          {gridMs !== null && shownRows.length > 0 && (
            <TimelineBar
              rows={shownRows}
              marks={gridMarks}
              span={windowAround(gridMs, now, SPAN_MS)}
              atMs={gridMs}
              latestMs={now}
              onSeek={(ms) => showAll(ms)}
            />
          )}
        </div>
      )}
      <div className={`video-cells grid-${grid}`}>
        {Array.from({ length: grid }, (_, i) => (
          <VideoCell
            key={i}
            index={i}
            cameras={cameras}
            single={grid === 1}
            clock={grid === 4 ? shared : null}
            command={command}
            ask={cellAsks[i] ?? null}
            onRow={onRow}
            onChoice={onChoice}
            hubGet={props.hubGet}
            alarms={props.alarms}
          />
        ))}
      </div>
      <p className="hint">Live and recorded video come from the camera's recorder through the hub.</p>
    </section>
  );
}

function VideoCell(props: {
  index: number;
  cameras: Choice[];
  single: boolean;
  /** The grid's clock, when the view is in the 2x2 grid. */
  clock: GridClock | null;
  command: GridCommand;
  /** A camera asked for elsewhere, to show at its instant. */
  ask: CellAsk | null;
  onRow: (index: number, row: TimelineRow | null) => void;
  onChoice: (index: number, choice: Choice | null) => void;
  hubGet: <T>(path: string) => Promise<T>;
  alarms: Alarm[];
}) {
  const video = useRef<HTMLVideoElement>(null);
  const player = useRef<RecordingPlayer | LivePlayer | null>(null);
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
  // Live (not recorded) video shows.
  const [live, setLive] = useState(false);
  const [stream, setStream] = useState<string | null>(null);
  const [row, setRow] = useState<TimelineRow | null>(null);
  const [now, setNow] = useState(() => Date.now());
  // Whether the view keeps to the grid's clock: from the grid's request on, until the view is
  // shown or played by itself.
  const [following, setFollowing] = useState(false);
  const [aligned, setAligned] = useState<number | null>(null);
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 30_000);
    return () => window.clearInterval(timer);
  }, []);
  const { onRow, onChoice, index } = props;
  useEffect(() => onRow(index, shownMs === null ? null : row), [onRow, index, row, shownMs]);
  const chosen = props.cameras.find((c) => key(c) === camera) ?? null;
  useEffect(() => onChoice(index, chosen), [onChoice, index, chosen?.site, chosen?.id]);
  const [pendingMs, setPendingMs] = useState<number | null>(null);
  const atMs = captureMs ?? shownMs ?? pendingMs;
  const marks = useMarks(props.hubGet, chosen ? [chosen] : [], atMs, props.alarms);
  // The speed recorded video plays at here (the element's own, kept across what it loads).
  const [rate, setRateHere] = useState(1);
  const applyRate = (element: HTMLVideoElement, to: number) => {
    element.defaultPlaybackRate = to;
    element.playbackRate = to;
  };
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
  // The media time of the frame presented last (a frame step starts from it).
  const presented = useRef<number | null>(null);
  useEffect(() => {
    const element = video.current;
    if (!element || !("requestVideoFrameCallback" in element)) return;
    let handle = 0;
    const seen = (_: number, frame: VideoFrameCallbackMetadata) => {
      presented.current = frame.mediaTime;
      handle = element.requestVideoFrameCallback(seen);
    };
    handle = element.requestVideoFrameCallback(seen);
    return () => element.cancelVideoFrameCallback(handle);
  }, []);
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

  /** Lets go of what the view shows and starts a new generation for the chosen camera, saying
   *  `status` of it; `null` when there is no camera or element. */
  const begin = (status: (name: string) => string, which = camera) => {
    const choice = props.cameras.find((c) => key(c) === which);
    const element = video.current;
    if (!choice || !element) return null;
    const mine = letGo();
    setStatus(status(choice.name));
    return { choice, element, mine };
  };

  /** Lets go of what the view shows (a frame step under way too); answers the new generation. */
  const letGo = () => {
    const mine = ++generation.current;
    cancelStep();
    player.current?.close();
    player.current = null;
    setProblem(null);
    setShownMs(null);
    setCaptureMs(null);
    setPendingMs(null);
    setLive(false);
    setPlaying(false);
    return mine;
  };

  /** Shows the chosen camera (or `which`) from `fromMs`; answers whether it did (and no later
   *  show came). */
  const show = async (fromMs: number, thenPlay: boolean, which = camera): Promise<boolean> => {
    const begun = begin((name) => `Loading ${name} from ${when(fromMs)}…`, which);
    if (!begun) return false;
    const { choice, element, mine } = begun;
    // The bar stays where it is going meanwhile (and keeps the keyboard's focus).
    setPendingMs(fromMs);
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
        if (generation.current !== mine) {
          next.close();
          return false;
        }
        setShownMs(fromMs);
        setStream(stream);
        setStatus(`${choice.name} (${stream} stream), recorded`);
        if (thenPlay) {
          applyRate(element, rateNow.current);
          await element.play();
          setPlaying(true);
        }
        return true;
      } catch (e) {
        if (generation.current !== mine) return false;
        next.close();
        const error = e instanceof PlayerError ? e : new PlayerError("unexpected", String(e));
        if (error.code === "not_found" && stream === "main") continue;
        setProblem(error.message);
        setStatus(`${choice.name}: no video`);
        return false;
      }
    }
    return false;
  };
  /** Shows the chosen camera live, the main stream where the recorder serves it, else the
   *  sub-stream. */
  const goLive = async () => {
    const begun = begin((name) => `Opening ${name} live…`);
    if (!begun) return;
    const { choice, element, mine } = begun;
    for (const stream of ["main", "sub"]) {
      const next = new LivePlayer(element, livePath(choice.site, choice.id, stream), (error) => generation.current === mine && setProblem(error?.message ?? null));
      player.current = next;
      try {
        await next.open();
        if (generation.current !== mine) return next.close();
        setLive(true);
        setStream(stream);
        setPlaying(true);
        setStatus(`${choice.name} (${stream} stream), live`);
        return;
      } catch (e) {
        if (generation.current !== mine) return;
        next.close();
        const error = e instanceof PlayerError ? e : new PlayerError("unexpected", String(e));
        if (error.code === "not_found" && stream === "main") continue;
        setProblem(error.message);
        setStatus(`${choice.name}: no live video`);
        return;
      }
    }
  };

  const showRef = useRef(show);
  showRef.current = show;
  const rateNow = useRef(rate);
  rateNow.current = rate;

  // The grid's requests: show from its instant, play, pause (and stand on its instant).
  const clockRef = useRef(props.clock);
  clockRef.current = props.clock;
  // The request seen last: a view mounted later (the grid back to 2x2) does not replay it.
  const handled = useRef(props.command.seq);
  // A jump back onto the clock under way, and when the last one began.
  const jumping = useRef(false);
  const lastJump = useRef(0);

  /** Stands the view on the grid's clock once shown: where the clock is now (moved within what
   *  it has buffered, shown again from there when that is not buffered), playing when the
   *  clock plays, else marked as standing on the clock's instant. */
  const join = (mine: number, again = true) => {
    const clock = clockRef.current;
    const element = video.current;
    if (!clock || !element || generation.current !== mine) return;
    const target = gridNow(clock, Date.now());
    const own = player.current?.captureNow() ?? null;
    const to = own === null ? null : seekWithin(element.currentTime, own, target, bufferedRanges(element));
    const done = () => {
      if (generation.current !== mine) return;
      const now = clockRef.current;
      if (now?.playing) {
        applyRate(element, now.rate);
        element.play().then(
          () => setPlaying(true),
          () => undefined,
        );
      } else if (now) setAligned(now.atMs);
    };
    if (to === null) {
      if (!again) return done();
      void showRef.current(target, false).then((ok) => ok && join(generation.current, false));
    } else if (Math.abs(to - element.currentTime) < 0.001) done();
    else {
      element.addEventListener("seeked", done, { once: true });
      element.currentTime = to;
    }
  };

  useEffect(() => {
    if (props.command.seq === handled.current) return;
    handled.current = props.command.seq;
    const clock = clockRef.current;
    const element = video.current;
    if (!clock || !element || !camera) return;
    setFollowing(true);
    setAligned(null);
    if (props.command.kind === "show") {
      setAt(localInput(clock.atMs));
      void showRef.current(clock.atMs, false).then((ok) => ok && join(generation.current));
    } else if (props.command.kind === "play") {
      // A view still opening plays when it is shown (`join`).
      if (player.current?.captureNow() != null) {
        applyRate(element, clock.rate);
        element.play().then(
          () => setPlaying(true),
          () => undefined,
        );
      }
    } else {
      element.pause();
      applyRate(element, clock.rate);
      setPlaying(false);
      join(generation.current);
    }
    // Only a new request acts; what it acts on is read as it is then.
  }, [props.command.seq]);

  // A camera asked for elsewhere: chosen here and shown at its instant, paused there (on the
  // grid's clock, when it follows it); no camera: the view lets go of what it showed.
  const asked = useRef(0);
  useEffect(() => {
    const ask = props.ask;
    if (!ask || ask.seq === asked.current) return;
    asked.current = ask.seq;
    setAligned(null);
    if (ask.camera === null) {
      letGo();
      setStatus("Choose a camera and an instant.");
      setCamera("");
      setFollowing(false);
      return;
    }
    const which = `${ask.site}/${ask.camera}`;
    if (!props.cameras.some((c) => key(c) === which)) {
      setProblem(`Camera ${ask.camera} is not among the cameras you may see.`);
      return;
    }
    setCamera(which);
    setAt(localInput(ask.atMs));
    setFollowing(ask.follow);
    void showRef.current(ask.atMs, false, which).then((ok) => ok && ask.follow && join(generation.current));
  }, [props.ask?.seq]);

  // Out of the grid (a single view), the view is its own again.
  useEffect(() => {
    if (props.clock === null) setFollowing(false);
  }, [props.clock]);

  // While the grid plays, the view keeps to its clock.
  useEffect(() => {
    if (!following || !props.clock?.playing) return;
    const timer = window.setInterval(() => {
      const clock = clockRef.current;
      const element = video.current;
      const own = player.current?.captureNow() ?? null;
      if (!clock?.playing || !element || own === null || jumping.current) return;
      const keep = keepTo(gridNow(clock, Date.now()), own, FRAME_MS, clock.rate);
      if (keep.kind === "wait") {
        // Ahead by a gap in its recording: it stands still until the clock reaches it.
        if (!element.paused) element.pause();
      } else if (keep.kind === "rate") {
        element.playbackRate = keep.rate;
        if (element.paused)
          element.play().then(
            () => setPlaying(true),
            () => undefined,
          );
      } else if (Date.now() - lastJump.current > JUMP_AGAIN_MS) {
        // Far behind: shown again where the clock is once it opens (`join`), not where it was.
        jumping.current = true;
        lastJump.current = Date.now();
        void showRef.current(keep.toMs, false).then((ok) => {
          jumping.current = false;
          if (ok) join(generation.current);
        });
      }
    }, KEEP_EVERY_MS);
    return () => window.clearInterval(timer);
  }, [following, props.clock?.playing]);

  // A frame step forward under way: the callback waiting for the next frame, and the timer
  // that gives up on it.
  const stepping = useRef<{ handle: number; timer: number } | null>(null);
  const cancelStep = () => {
    const under = stepping.current;
    if (!under) return;
    stepping.current = null;
    window.clearTimeout(under.timer);
    const element = video.current;
    if (element && "cancelVideoFrameCallback" in element) element.cancelVideoFrameCallback(under.handle);
    if (element) element.playbackRate = rateNow.current;
  };

  /** Pauses and shows the frame `frames` away (one either way): forward, by playing slowly
   *  until the next frame is presented (a fifteenth of a second on within what is buffered
   *  when none comes within a second: the end of what was fetched); back, by standing just
   *  before the frame shown (the previous one), or showing the recording again there when
   *  that is not buffered. */
  const stepFrames = (frames: number) => {
    const element = video.current;
    const own = player.current?.captureNow() ?? null;
    if (!element || own === null || live) return;
    cancelStep();
    element.pause();
    setPlaying(false);
    const shownS = presented.current ?? element.currentTime;
    const mine = generation.current;
    if (frames > 0 && "requestVideoFrameCallback" in element) {
      const done = (toS: number | null) => {
        cancelStep();
        if (generation.current !== mine) return;
        element.pause();
        if (toS !== null) element.currentTime = toS;
      };
      const watch = () =>
        element.requestVideoFrameCallback((_, frame) => {
          if (!stepping.current) return;
          if (frame.mediaTime <= shownS + 0.0005) stepping.current.handle = watch();
          else done(frame.mediaTime);
        });
      const timer = window.setTimeout(() => done(seekWithin(shownS, 0, FRAME_MS, bufferedRanges(element))), 1_000);
      stepping.current = { handle: watch(), timer };
      element.playbackRate = 0.25;
      element.play().catch(() => undefined);
      return;
    }
    const byMs = frames > 0 ? FRAME_MS : -1;
    const to = seekWithin(shownS, 0, byMs, bufferedRanges(element));
    if (to !== null) element.currentTime = to;
    else void show(own + (frames > 0 ? FRAME_MS : -FRAME_MS), false);
  };

  const toggle = async () => {
    const element = video.current;
    const current = player.current;
    // Live, paused reads nothing; played again, it is live again (not where it paused).
    if (live && current instanceof LivePlayer) {
      if (playing) current.hold();
      else current.resume();
      setPlaying(!playing);
      return;
    }
    if (!element || shownMs === null) return;
    cancelStep();
    if (element.paused) {
      applyRate(element, rate);
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
        <button
          type="button"
          data-action="show"
          disabled={!camera || !at}
          onClick={() => {
            setFollowing(false);
            void show(new Date(at).getTime(), false);
          }}
        >
          Show
        </button>
        <button
          type="button"
          data-action="live"
          disabled={!camera}
          onClick={() => {
            setFollowing(false);
            void goLive();
          }}
        >
          Live
        </button>
        <button
          type="button"
          data-action="play"
          disabled={shownMs === null && !live}
          onClick={() => {
            setFollowing(false);
            void toggle();
          }}
        >
          {playing ? "Pause" : "Play"}
        </button>
      </div>
      <video
        ref={video}
        muted
        playsInline
        // Nothing to show and a reason why: the reason, not an empty box.
        hidden={problem !== null && shownMs === null && !live}
        className={props.single ? "native" : ""}
        data-shown-ms={shownMs ?? undefined}
        data-live={live || undefined}
        data-follows-grid={following || undefined}
        data-aligned-ms={aligned ?? undefined}
        aria-label={status}
        onLoadedMetadata={(e) => {
          if (props.single) e.currentTarget.style.width = `${e.currentTarget.videoWidth}px`;
        }}
      />
      <PlaybackControls
        label={`View ${props.index + 1}`}
        marks={marks}
        atMs={shownMs === null || live ? null : atMs}
        rate={following && props.clock ? props.clock.rate : rate}
        canRate={shownMs !== null && !live}
        onMark={(mark) => {
          setFollowing(false);
          void show(mark.atMs, playing);
        }}
        onStep={(frames) => {
          setFollowing(false);
          stepFrames(frames);
        }}
        onRate={(to) => {
          setFollowing(false);
          cancelStep();
          setRateHere(to);
          if (video.current) applyRate(video.current, to);
        }}
      />
      {row && atMs !== null && !live && (
        <TimelineBar
          rows={[row]}
          marks={marks}
          span={span}
          atMs={atMs}
          latestMs={now}
          onSeek={(ms) => {
            setFollowing(false);
            void show(ms, playing);
          }}
        />
      )}
      <p className="note" data-status>
        {live && <span className="live-badge">LIVE</span>}
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
