// Recorded and live video in the browser: fragmented MP4 from the hub (which fetches it from
// the camera's recorder with the browser's session alone), played through Media Source
// Extensions. The hub's answer says when its first frame was captured and in which codec; the
// player shows the instant asked for, says in words when this browser cannot decode the codec,
// and asks again from where an answer ended, so playback runs on across answers and up to the
// recording's newest segment.

const API = "/api/v1";

/** The MSE type for a recording's codec, as the hub names it; `null` when there is none. */
export function mimeOf(codec: string): string | null {
  switch (codec) {
    case "h264":
      return 'video/mp4; codecs="avc1.42E01E"';
    case "h265":
      return 'video/mp4; codecs="hvc1.1.6.L93.B0"';
    default:
      return null;
  }
}

/** A codec as people name it. */
export function codecName(codec: string): string {
  return { h264: "H.264", h265: "H.265 (HEVC)", jpeg: "Motion JPEG" }[codec] ?? codec;
}

/** Why this browser cannot play `codec`, in words; `null` when it can. */
export function cannotPlay(codec: string, supported: (mime: string) => boolean): string | null {
  const mime = mimeOf(codec);
  if (mime && supported(mime)) return null;
  return `This browser cannot decode this camera's ${codecName(codec)} video. Play it in the Watchfloor desktop app${
    codec === "h265" ? ", or in a browser that decodes H.265 (Safari; Edge or Chrome with the system's HEVC decoder)" : ""
  }.`;
}

/** The hub's path of a camera's recorded stream from `fromMs` (Unix ms). */
export function mediaPath(site: string, camera: string, stream: string, fromMs: number): string {
  const e = encodeURIComponent;
  return `${API}/sites/${e(site)}/cameras/${e(camera)}/recording/${stream}/media?from=${e(new Date(fromMs).toISOString())}`;
}

/** The hub's path of a camera's `stream` live. */
export function livePath(site: string, camera: string, stream: string): string {
  const e = encodeURIComponent;
  return `${API}/sites/${e(site)}/cameras/${e(camera)}/live/${stream}`;
}

/** What a camera's recorded `stream` holds from `fromMs` to `toMs` (Unix ms), through the hub. */
export function timelinePath(site: string, camera: string, stream: string, fromMs: number, toMs: number): string {
  const e = encodeURIComponent;
  const at = (ms: number) => e(new Date(ms).toISOString());
  return `${API}/sites/${e(site)}/cameras/${e(camera)}/recording/${stream}/timeline?from=${at(fromMs)}&to=${at(toMs)}`;
}

/** Where an answer's frames sit on the video element's timeline. */
export interface Piece {
  /** Media time (s) of the answer's first frame. */
  mediaStart: number;
  /** When that frame was captured (Unix ms). */
  captureStart: number;
}

/** The capture time (Unix ms) shown at media time `t`, from the pieces appended so far. */
export function captureAt(pieces: Piece[], t: number): number | null {
  let found: Piece | null = null;
  for (const piece of pieces) if (piece.mediaStart <= t + 1e-6) found = piece;
  return found ? found.captureStart + (t - found.mediaStart) * 1000 : null;
}

/** A refusal from the hub, in words. */
export class PlayerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function refusal(response: Response): Promise<PlayerError> {
  try {
    const body = (await response.json()) as { code?: string; message?: string };
    return new PlayerError(body.code ?? String(response.status), body.message ?? `the hub answered ${response.status}`);
  } catch {
    return new PlayerError(String(response.status), `the hub answered ${response.status}`);
  }
}

/** Resolves when `video` next presents a frame (or after half a second, when the frame on
 *  screen was already the one asked for and none comes). */
function nextFrame(video: HTMLVideoElement): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 500);
    if ("requestVideoFrameCallback" in video) {
      video.requestVideoFrameCallback(() => {
        clearTimeout(timer);
        resolve();
      });
    }
  });
}

const once = (target: EventTarget, name: string) => new Promise<void>((resolve) => target.addEventListener(name, () => resolve(), { once: true }));

/** Seconds buffered ahead of what shows before the player stops reading (and keeps behind). */
const AHEAD_S = 30;
const BEHIND_S = 30;

/** Refusals that may pass: the recorder busy or unreachable for now (or its camera not
 *  sending yet: the hub's `upstream`), the user's four streams not yet let go of (a grid
 *  switching). */
const PASSING = new Set(["upstream", "rate_limited"]);
/** How long opening a view keeps asking while a refusal may pass, and how often. */
const OPEN_RETRY_MS = 15_000;
const RETRY_MS = 1_000;

const asPlayerError = (e: unknown) => (e instanceof PlayerError ? e : new PlayerError("unexpected", String(e)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A video element fed through Media Source Extensions, until closed. */
class Attached {
  readonly stop = new AbortController();
  private source: MediaSource | null = null;
  private objectUrl: string | null = null;

  constructor(private readonly video: HTMLVideoElement) {}

  /** A source buffer on the element for the codec `answer` says, once the element opened it;
   *  says in words when this browser cannot decode that codec. */
  async attach(answer: Response): Promise<SourceBuffer> {
    const codec = answer.headers.get("x-watchfloor-codec") ?? "h264";
    const problem = cannotPlay(codec, (m) => typeof MediaSource !== "undefined" && MediaSource.isTypeSupported(m));
    if (problem) {
      this.close();
      throw new PlayerError("codec", problem);
    }
    const source = new MediaSource();
    this.source = source;
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = URL.createObjectURL(source);
    this.video.src = this.objectUrl;
    await Promise.race([once(source, "sourceopen"), once(this.stop.signal, "abort")]);
    if (this.stop.signal.aborted) throw new PlayerError("closed", "closed");
    const buffer = source.addSourceBuffer(mimeOf(codec) ?? "");
    // Answers follow each other on the element's timeline; gaps between them take no time.
    buffer.mode = "sequence";
    return buffer;
  }

  /** Fetches `path` for this element (with the session), or says why the hub refused. */
  async fetch(path: string): Promise<Response> {
    const response = await fetch(path, { credentials: "same-origin", signal: this.stop.signal });
    if (!response.ok) throw await refusal(response);
    return response;
  }

  /** The same, asking again for [`OPEN_RETRY_MS`] while the refusal may pass. */
  async fetchPassing(path: string): Promise<Response> {
    const opening = Date.now();
    for (;;) {
      try {
        return await this.fetch(path);
      } catch (e) {
        const error = asPlayerError(e);
        if (this.stop.signal.aborted || !PASSING.has(error.code) || Date.now() - opening >= OPEN_RETRY_MS) throw error;
        await sleep(RETRY_MS);
      }
    }
  }

  close(): void {
    this.stop.abort();
    if (this.source?.readyState === "open") {
      try {
        this.source.endOfStream();
      } catch {
        // Already ending.
      }
    }
    this.video.removeAttribute("src");
    this.video.load();
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = null;
  }
}

/** One video element playing one camera's recording. */
export class RecordingPlayer {
  readonly pieces: Piece[] = [];
  private readonly media: Attached;

  /** `onError` hears what goes wrong once the first frame has shown. */
  constructor(
    private readonly video: HTMLVideoElement,
    private readonly path: (fromMs: number) => string,
    private readonly onError: (error: PlayerError) => void = () => undefined,
  ) {
    this.media = new Attached(video);
  }

  private get stop(): AbortController {
    return this.media.stop;
  }

  /** Loads the recording from `fromMs` and shows the frame captured then, paused; resolves
   *  once it shows. Later answers keep coming in the background. */
  async open(fromMs: number): Promise<void> {
    const first = await this.media.fetchPassing(this.path(fromMs));
    const buffer = await this.media.attach(first);
    const shown = this.pump(first, buffer, fromMs);
    await shown;
  }

  /** The capture time (Unix ms) of what the element shows now. */
  captureNow(): number | null {
    return captureAt(this.pieces, this.video.currentTime);
  }

  close(): void {
    this.media.close();
  }

  /** Waits while enough is buffered ahead of what shows, and lets go of what was shown long
   *  ago: a paused or slow player reads no further than it needs. */
  private async keepWindow(buffer: SourceBuffer): Promise<void> {
    for (;;) {
      if (this.stop.signal.aborted || !buffer.buffered.length) return;
      const now = this.video.currentTime;
      const start = buffer.buffered.start(0);
      if (now - start > BEHIND_S * 2 && !buffer.updating) {
        buffer.remove(start, now - BEHIND_S);
        await once(buffer, "updateend");
      }
      if (buffer.buffered.end(buffer.buffered.length - 1) - now < AHEAD_S) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  private fetch(fromMs: number): Promise<Response> {
    return this.media.fetch(this.path(fromMs));
  }

  /** Appends `answer` and the answers after it; resolves once the frame at `showMs` shows. */
  private pump(answer: Response, buffer: SourceBuffer, showMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let shown = false;
      const run = async () => {
        let current: Response | null = answer;
        let previousEnd: number | null = null;
        while (current && !this.stop.signal.aborted) {
          const captureStart = Date.parse(current.headers.get("x-watchfloor-start") ?? "");
          // An answer after the first starts at the key frame before where the last one ended:
          // the frames both hold are taken off the end first, so none plays twice.
          const overlapS = previousEnd === null ? 0 : Math.max(0, (previousEnd - captureStart) / 1000);
          if (overlapS > 0 && buffer.buffered.length) {
            const end = buffer.buffered.end(buffer.buffered.length - 1);
            buffer.remove(Math.max(buffer.buffered.start(0), end - overlapS), end);
            await once(buffer, "updateend");
          }
          const mediaStart = buffer.buffered.length ? buffer.buffered.end(buffer.buffered.length - 1) : 0;
          let started = false;
          let lastCapture = captureStart;
          const reader = current.body?.getReader();
          for (;;) {
            if (shown) await this.keepWindow(buffer);
            const chunk = reader ? await reader.read() : { done: true as const, value: undefined };
            if (chunk.done) break;
            buffer.appendBuffer(chunk.value);
            await once(buffer, "updateend");
            if (!started && buffer.buffered.length) {
              started = true;
              const at = buffer.buffered.start(buffer.buffered.length - 1);
              this.pieces.push({ mediaStart: Math.max(at, mediaStart), captureStart });
            }
            const piece = this.pieces[this.pieces.length - 1];
            if (piece && buffer.buffered.length) {
              lastCapture = piece.captureStart + (buffer.buffered.end(buffer.buffered.length - 1) - piece.mediaStart) * 1000;
            }
            if (!shown && piece && lastCapture >= showMs) {
              shown = true;
              const presented = nextFrame(this.video);
              this.video.currentTime = piece.mediaStart + Math.max(0, showMs - piece.captureStart) / 1000;
              await once(this.video, "seeked");
              // Seeked is not yet shown: wait for the frame to reach the screen.
              await presented;
              resolve();
            }
          }
          // The next answer from where this one ended; nothing recorded yet: look again soon.
          previousEnd = lastCapture;
          current = null;
          while (!current && !this.stop.signal.aborted) {
            try {
              current = await this.fetch(lastCapture + 1);
            } catch (e) {
              if (e instanceof PlayerError && e.code === "not_found") {
                await new Promise((r) => setTimeout(r, 5000));
              } else {
                throw e;
              }
            }
          }
        }
      };
      run().catch((e: unknown) => {
        const error = e instanceof PlayerError ? e : new PlayerError("unexpected", String(e));
        if (!shown) reject(error);
        else if (!this.stop.signal.aborted) this.onError(error);
      });
    });
  }
}

/** How far a live view may fall behind the newest frame it has before it jumps to it (a tab in
 *  the background, a slow machine). */
const LIVE_BEHIND_S = 1.5;
/** Where a live view stands behind the newest frame it has when it joins. */
const LIVE_EDGE_S = 0.1;
/** Behind by more than this, a live view plays a little faster until it is not: waiting for
 *  data now and then would otherwise only ever add to its delay. */
const LIVE_CATCH_UP_S = 0.5;
const LIVE_CATCH_UP_RATE = 1.1;
/** What a live view keeps of what it showed. */
const LIVE_KEPT_S = 10;
/** How long a live view that stopped waits before asking again, at first and at most. */
const LIVE_RETRY_MS = 2_000;
const LIVE_RETRY_MAX_MS = 30_000;

/** Where a live view should stand: `null` where it is, else the time to jump to (the newest
 *  frame it has, a little behind), when it has fallen too far behind it. */
export function liveJump(currentS: number, bufferedEndS: number): number | null {
  return bufferedEndS - currentS > LIVE_BEHIND_S ? Math.max(0, bufferedEndS - LIVE_EDGE_S) : null;
}

/** The speed a live view plays at: a little faster while it is behind. */
export function liveRate(currentS: number, bufferedEndS: number): number {
  return bufferedEndS - currentS > LIVE_CATCH_UP_S ? LIVE_CATCH_UP_RATE : 1;
}


/** One video element playing one camera live: the recorder's stream from its last key frame,
 *  played as it comes near its newest frame; asked for again when it ends (the camera away, the
 *  recorder restarted, the element refusing what came). Held (paused), it reads nothing. */
export class LivePlayer {
  private readonly media: Attached;
  private held = false;
  /** How many times it was held: an answer that ends across a hold is not a failure. */
  private holds = 0;
  private wake: (() => void) | null = null;
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;

  /** `onError` hears, once the first frame has shown, when the stream stopped (it is asked for
   *  again) and `null` when it runs again. */
  constructor(
    private readonly video: HTMLVideoElement,
    private readonly path: string,
    private readonly onError: (error: PlayerError | null) => void = () => undefined,
  ) {
    this.media = new Attached(video);
  }

  /** Live frames carry no capture time from the recorder: none is claimed. */
  captureNow(): number | null {
    return null;
  }

  /** Opens the stream and plays it from its newest frame; resolves once a frame shows, or
   *  says why none can. */
  open(): Promise<void> {
    const stop = this.media.stop.signal;
    return new Promise<void>((resolve, reject) => {
      let shown = false;
      const opening = Date.now();
      const run = async () => {
        let buffer: SourceBuffer | null = null;
        let codec: string | null = null;
        // Longer each time the stream stops again without anything coming.
        let retryMs = LIVE_RETRY_MS;
        const again = async () => {
          await sleep(retryMs);
          retryMs = Math.min(retryMs * 2, LIVE_RETRY_MAX_MS);
        };
        while (!stop.aborted) {
          if (this.held) {
            await new Promise<void>((r) => (this.wake = r));
            continue;
          }
          // A hold (and a resume) while this answer runs is the viewer's, not a failure.
          const holds = this.holds;
          let answer: Response;
          try {
            answer = shown ? await this.media.fetch(this.path) : await this.media.fetchPassing(this.path);
          } catch (e) {
            const error = asPlayerError(e);
            if (stop.aborted) break;
            // Refused for good (no right, no such stream), or before anything showed: said,
            // and not asked again.
            if (!shown || !PASSING.has(error.code)) throw error;
            this.onError(error);
            await again();
            continue;
          }
          // A new codec (the camera reconfigured) needs a new buffer; so does one that failed.
          const answerCodec = answer.headers.get("x-watchfloor-codec") ?? "h264";
          if (!buffer || answerCodec !== codec) {
            buffer = await this.media.attach(answer);
            codec = answerCodec;
          }
          let got = false;
          try {
            got = await this.append(answer, buffer, () => {
              if (shown) return this.onError(null);
              shown = true;
              resolve();
            });
          } catch (e) {
            if (stop.aborted) break;
            if (this.holds !== holds) continue;
            if (!shown) throw e;
            // The element refused what came (its buffer full, a frame it cannot decode).
            buffer = null;
            this.onError(asPlayerError(e));
          }
          if (stop.aborted) break;
          if (this.held || this.holds !== holds) continue;
          if (got) retryMs = LIVE_RETRY_MS;
          if (!shown) {
            if (Date.now() - opening >= OPEN_RETRY_MS) throw new PlayerError("no_video", "The camera sends no video now.");
            await sleep(RETRY_MS);
            continue;
          }
          this.onError(new PlayerError("ended", "The live video stopped; asking for it again…"));
          await again();
        }
        if (!shown) throw new PlayerError("closed", "closed");
      };
      run().catch((e: unknown) => {
        if (!shown) reject(asPlayerError(e));
        else if (!stop.aborted) this.onError(asPlayerError(e));
      });
    });
  }

  /** Paused by the viewer: the picture stays and nothing more is read. */
  hold(): void {
    this.held = true;
    this.holds += 1;
    this.video.pause();
    void this.reader?.cancel().catch(() => undefined);
  }

  /** Played again: the stream is asked for anew and plays from its newest frame. */
  resume(): void {
    this.held = false;
    this.wake?.();
    this.wake = null;
  }

  close(): void {
    this.media.close();
    this.resume();
  }

  /** Appends `answer`'s fragments as they come until it ends or the view is held; once the
   *  first is buffered, stands the element on the newest frame, plays it and calls `first`.
   *  Keeps the element near the newest frame and lets go of what it showed long ago. Whether
   *  anything was buffered. */
  private async append(answer: Response, buffer: SourceBuffer, first: () => void): Promise<boolean> {
    const reader = answer.body?.getReader();
    if (!reader) return false;
    this.reader = reader;
    let got = false;
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done || this.media.stop.signal.aborted || this.held) return got;
        buffer.appendBuffer(chunk.value);
        await once(buffer, "updateend");
        if (!buffer.buffered.length) continue;
        const end = buffer.buffered.end(buffer.buffered.length - 1);
        const start = buffer.buffered.start(0);
        if (!got) {
          got = true;
          const presented = nextFrame(this.video);
          this.video.currentTime = Math.max(start, end - LIVE_EDGE_S);
          if (this.video.paused) await this.video.play();
          await presented;
          first();
        }
        const jump = liveJump(this.video.currentTime, end);
        if (jump !== null) this.video.currentTime = jump;
        this.video.playbackRate = liveRate(this.video.currentTime, end);
        // Kept from the newest frame back, so a view the browser paused (a hidden tab) does
        // not fill the buffer either.
        const keepFrom = end - LIVE_KEPT_S;
        if (keepFrom - start > LIVE_KEPT_S && !buffer.updating) {
          buffer.remove(start, keepFrom);
          await once(buffer, "updateend");
        }
      }
    } finally {
      this.reader = null;
      void reader.cancel().catch(() => undefined);
    }
  }
}
