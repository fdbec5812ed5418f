// One API surface, two transports: in the desktop app the core answers over Tauri IPC; in a
// plain browser (managers without the app) the same components talk to the hub over HTTPS.
// Components only see `Transport`.

import type { Caller, ClientMessage, ErrorBody, ErrorCode, FeedMessage, SiteDetail } from "./generated/hub";
import type { AppError, AppEvent, ConnectionState, SiteTree, Startup, WriteOutcome } from "./generated/app";
import type { ConsoleError } from "./types";

export interface Transport {
  /** Calls a core command; rejects with `{code, message}`. */
  call<T>(command: string, args?: Record<string, unknown>): Promise<T>;
  /** Hears the core's events; returns a function that stops listening. */
  listen(handler: (event: AppEvent) => void): Promise<() => void>;
  /** Whether this transport has video walls (only the desktop app does). */
  readonly hasWalls: boolean;
  /** Whether this is the browser console (the hub's own page: no hub address, no keychain). */
  readonly browser: boolean;
}

/** Whether the page runs inside the desktop app's webview. */
export function inApp(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

/** The desktop app: the Rust core over Tauri IPC. */
export async function tauriTransport(): Promise<Transport> {
  const { invoke } = await import("@tauri-apps/api/core");
  const { listen } = await import("@tauri-apps/api/event");
  return {
    hasWalls: true,
    browser: false,
    call: <T,>(command: string, args?: Record<string, unknown>) =>
      invoke<T>(command, args).catch((error: unknown) => {
        throw asAppError(error);
      }),
    listen: (handler) => listen<AppEvent>("watchfloor", (event) => handler(event.payload)),
  };
}

/** Any rejection as `{code, message}`: the core's errors as they are, anything else `unexpected`. */
export function asAppError(error: unknown): ConsoleError {
  if (error && typeof error === "object" && "code" in error && "message" in error) {
    const { code, message } = error as { code: unknown; message: unknown };
    return { code: String(code) as ConsoleError["code"], message: String(message) };
  }
  return { code: "unexpected", message: String(error) };
}

/** The hub's own refusal as the core reports it: `hub_<code>`, so both transports give the
 *  console the same codes. */
export function fromHub(error: ErrorBody): AppError {
  return { code: `hub_${error.code}`, message: error.message };
}

// ---- The browser: the hub's HTTPS API at the same origin, and its live feed over a WebSocket.

/** What `httpTransport` needs from the page; tests pass fakes. */
export interface BrowserDeps {
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  WebSocket: new (url: string) => WebSocket;
  location: { protocol: string; host: string; origin: string };
  now: () => number;
  setTimeout: (f: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

const API = "/api/v1";
const NO_WALL: ConsoleError = { code: "no_wall", message: "video walls are in the desktop app" };
const WALL_COMMANDS = new Set([
  "monitors",
  "wall_assign",
  "wall_fill",
  "wall_add",
  "wall_place",
  "wall_snapshot",
  "wall_close",
  "wall_preset",
  "wall_select",
  "wall_maximize",
  "wall_tour",
  "wall_replay",
  "wall_live",
  "wall_replay_all",
  "wall_live_all",
  "wall_playback_seek",
  "wall_playback_control",
  "alarm_replay",
  "camera_replay",
  "instant_replay_set",
  "wall_alarm_tiles",
  "layout_open",
  "layout_save",
  "incident_snapshot",
]);

/** The feed's address for a page at `location`: wss:// on an https page, ws:// on http. */
export function feedUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${API}/changes`;
}

/** The first message on the feed: no token (the session cookie authenticates the browser). */
export function subscribeMessage(since: number | null): string {
  const message: ClientMessage = since === null ? { type: "subscribe" } : { type: "subscribe", since };
  return JSON.stringify(message);
}

/** A feed message as what the console hears. */
export type FeedEvent =
  | { type: "subscribed"; seq: number }
  | { type: "change"; seq: number; events: AppEvent[] }
  | { type: "error"; error: ErrorBody }
  | { type: "ignored" };

/** A feed message as what the console hears: a change becomes `hub-change` (and, like the app
 *  core, `cameras` for a site change and `layouts` for a layout change). */
export function feedMessage(text: string): FeedEvent {
  let message: FeedMessage;
  try {
    message = JSON.parse(text) as FeedMessage;
  } catch {
    return { type: "ignored" };
  }
  if (!message || typeof message !== "object") return { type: "ignored" };
  if (message.type === "subscribed" && typeof message.seq === "number") return { type: "subscribed", seq: message.seq };
  if (message.type === "error") return { type: "error", error: { code: message.code ?? "internal", message: message.message ?? "the feed failed" } };
  if (message.type === "change" && typeof message.seq === "number" && typeof message.kind === "string") {
    const { type: _type, ...change } = message;
    const events: AppEvent[] = [{ type: "hub-change", change }];
    if (change.kind === "site") events.push({ type: "cameras" });
    if (change.kind === "layout" || change.kind === "layout.removed") events.push({ type: "layouts" });
    return { type: "change", seq: message.seq, events };
  }
  return { type: "ignored" };
}

/** How long to wait before reconnect `attempt` (1, 2, …): doubling from 0.5 s up to 30 s,
 *  with `jitter` (0..1) spreading clients that lost the hub together. */
export function reconnectDelayMs(attempt: number, jitter = 0): number {
  const base = Math.min(30_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (1 + 0.25 * Math.min(1, Math.max(0, jitter))));
}

/** Whether a feed error means the session is gone (sign in again) rather than a hiccup. */
export function isAuthFailure(code: ErrorCode): boolean {
  return code === "unauthenticated" || code === "forbidden";
}

async function errorOf(response: Response): Promise<AppError> {
  try {
    const body = (await response.json()) as unknown;
    if (body && typeof body === "object" && "code" in body && "message" in body) return fromHub(body as ErrorBody);
  } catch {
    // Not JSON: say what HTTP said.
  }
  // Not the hub's own answer (a proxy's): as the core says it.
  const message = `the hub answered ${response.status} ${response.statusText}`.trim();
  const refused = response.status >= 400 && response.status < 500 && ![401, 408, 429].includes(response.status);
  return { code: refused ? "hub_refused" : "hub_answer", message };
}

function browserDeps(): BrowserDeps {
  return {
    fetch: (url, init) => fetch(url, init),
    WebSocket,
    location: window.location,
    now: () => Date.now(),
    setTimeout: (f, ms) => window.setTimeout(f, ms),
    clearTimeout: (h) => window.clearTimeout(h as number),
  };
}

/** The browser console: the hub's API at the same origin, signed in by an HttpOnly cookie. */
export function httpTransport(deps: BrowserDeps = browserDeps()): Transport {
  const handlers = new Set<(event: AppEvent) => void>();
  const emit = (event: AppEvent) => handlers.forEach((h) => h(event));
  let connection: ConnectionState = {
    link: "signed-out",
    hub: deps.location.origin,
    username: null,
    since_ms: deps.now(),
    attempt: 0,
    detail: null,
  };
  const setConnection = (patch: Partial<ConnectionState>) => {
    const link = patch.link ?? connection.link;
    connection = { ...connection, ...patch, since_ms: link === connection.link ? connection.since_ms : deps.now() };
    emit({ type: "connection", state: connection });
  };

  // The feed: open while signed in; reconnects and resubscribes from the last seq it saw.
  let socket: WebSocket | null = null;
  let wanted = false;
  let lastSeq: number | null = null;
  let timer: unknown = null;
  let attempt = 0;

  const connect = () => {
    timer = null;
    if (!wanted) return;
    let ws: WebSocket;
    try {
      ws = new deps.WebSocket(feedUrl(deps.location));
    } catch (e) {
      retry(String(e));
      return;
    }
    socket = ws;
    let detail: string | null = null;
    ws.onopen = () => ws.send(subscribeMessage(lastSeq));
    ws.onmessage = (m: MessageEvent) => {
      const message = feedMessage(typeof m.data === "string" ? m.data : "");
      if (message.type === "subscribed") {
        if (lastSeq === null) lastSeq = message.seq;
        attempt = 0;
        setConnection({ link: "online", attempt: 0, detail: null });
      } else if (message.type === "change") {
        lastSeq = message.seq;
        message.events.forEach(emit);
      } else if (message.type === "error") {
        if (isAuthFailure(message.error.code)) {
          stop();
          setConnection({ link: "signed-out", attempt: 0, detail: message.error.message });
        } else detail = message.error.message;
      }
    };
    ws.onclose = (event: CloseEvent) => {
      if (socket !== ws) return;
      socket = null;
      retry(detail ?? (event.reason || null));
    };
  };
  const retry = (detail: string | null) => {
    if (!wanted) return;
    attempt += 1;
    setConnection({ link: "reconnecting", attempt, detail });
    timer = deps.setTimeout(connect, reconnectDelayMs(attempt, Math.random()));
  };
  const start = (username: string) => {
    stop();
    wanted = true;
    attempt = 0;
    lastSeq = null;
    setConnection({ link: "connecting", username, attempt: 0, detail: null });
    connect();
  };
  function stop() {
    wanted = false;
    if (timer !== null) deps.clearTimeout(timer);
    timer = null;
    const ws = socket;
    socket = null;
    ws?.close();
  }

  const request = async <T,>(method: string, path: string, body?: unknown): Promise<T> => {
    let response: Response;
    try {
      response = await deps.fetch(`${API}${path}`, {
        method,
        credentials: "same-origin",
        headers: { "X-Watchfloor": "1", "Content-Type": "application/json", Accept: "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw { code: "hub_unreachable", message: `the hub cannot be reached: ${String(e)}` } satisfies AppError;
    }
    if (!response.ok) throw await errorOf(response);
    const text = response.status === 204 ? "" : await response.text();
    return (text === "" ? null : JSON.parse(text)) as T;
  };

  const commands: Record<string, (args: Record<string, unknown>) => Promise<unknown>> = {
    startup: async () => {
      let operator: Caller | null = null;
      const problems: string[] = [];
      try {
        operator = await request<Caller>("GET", "/me");
      } catch (e) {
        const error = asAppError(e);
        if (error.code !== "hub_unauthenticated") problems.push(error.message);
      }
      if (operator) start(operator.username);
      const startup: Startup = {
        last_sign_in: null,
        operator,
        connection,
        keychain: "not available in a browser",
        demo_available: false,
        problems,
        instant_replay_s: 0,
      };
      return startup;
    },
    sign_in: async (args) => {
      const req = (args.request ?? args) as { username?: unknown; password?: unknown };
      const session = await request<{ expires: string; user: Caller }>("POST", "/auth/browser-login", {
        username: String(req.username ?? ""),
        password: String(req.password ?? ""),
      });
      start(session.user.username);
      return session.user;
    },
    sign_out: async () => {
      try {
        await request("POST", "/auth/logout", {});
      } finally {
        stop();
        setConnection({ link: "signed-out", username: null, attempt: 0, detail: null });
      }
      return null;
    },
    cameras: async () => {
      // Not signed in: nothing to show, and no request the hub would refuse.
      if (!wanted) return [];
      let list: { id: string; name: string }[];
      try {
        list = await request<{ id: string; name: string }[]>("GET", "/sites");
      } catch (e) {
        if (asAppError(e).code === "hub_unauthenticated") return [];
        throw e;
      }
      const details = await Promise.all(list.map((s) => request<SiteDetail>("GET", `/sites/${encodeURIComponent(s.id)}`)));
      return details.map(siteTree);
    },
    walls: async () => [],
    stream_health: async () => [],
    layouts: async () => request("GET", "/layouts"),
    layout_delete: async (args) => request("DELETE", `/layouts/${encodeURIComponent(String(args.id))}`),
    hub_get: async (args) => request("GET", String(args.path)),
    hub_write: async (args): Promise<WriteOutcome> => ({
      status: "delivered",
      value: await request(String(args.method ?? "POST"), String(args.path), args.body ?? null),
    }),
    floor_plan: async (args) =>
      `${API}/sites/${encodeURIComponent(String(args.site))}/floors/${encodeURIComponent(String(args.floor))}/plan`,
    outbox: async () => ({ items: [] }),
    outbox_discard: async () => null,
  };

  return {
    hasWalls: false,
    browser: true,
    call: async <T,>(command: string, args?: Record<string, unknown>) => {
      if (WALL_COMMANDS.has(command)) throw { ...NO_WALL } satisfies ConsoleError;
      const run = commands[command];
      if (!run) throw { code: "unknown_command", message: `the browser console has no command ${command}` } satisfies ConsoleError;
      return (await run(args ?? {})) as T;
    },
    listen: async (handler) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
  };
}

/** A hub site as the camera tree shows it: floors with their cameras (as the core's
 *  `SiteTree::from_hub` reads it). */
export function siteTree(site: SiteDetail): SiteTree {
  return {
    id: site.id,
    name: site.name,
    floors: site.floors.map((f) => ({
      id: f.id,
      name: f.name,
      cameras: site.cameras
        .filter((c) => c.floor === f.id)
        .map((c) => ({
          id: c.id,
          floor: c.floor,
          name: c.name,
          main_url: c.main_url,
          sub_url: c.sub_url,
          credential_ref: c.credential_ref,
          site: site.id,
          // The browser plays no video (yet): where the recorder restreams does not matter here.
          recorder_url: null,
          doors: c.doors,
        })),
    })),
  };
}

/** A list the hub keeps per site (events, alarms, incidents), read from every site given and
 * merged; `path` makes one site's path. */
export async function perSite<T>(transport: Transport, sites: string[], path: (site: string) => string): Promise<T[]> {
  const lists = await Promise.all(sites.map((site) => transport.call<T[]>("hub_get", { path: path(encodeURIComponent(site)) })));
  return lists.flat();
}
