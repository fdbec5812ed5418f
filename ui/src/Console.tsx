import { ErrorNote } from "./ErrorNote";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { AlarmBanner, Alarms, alarmAction } from "./Alarms";
import { bannerAlarm, mergeAlarms, pendingAlarmActions, upsertAlarm } from "./alarms";
import { CameraTree } from "./CameraTree";
import { EventLog } from "./EventList";
import { FloorMap } from "./FloorMap";
import { Incidents, createFromAlarm } from "./Incidents";
import { HealthTable } from "./HealthTable";
import { Layouts } from "./Layouts";
import { SignIn } from "./SignIn";
import { StatusBar } from "./StatusBar";
import { TourEditor } from "./TourEditor";
import { Bookmarks } from "./Bookmarks";
import { newBookmark } from "./bookmarks";
import { newId } from "./ids";
import { Playback } from "./Playback";
import { can } from "./rights";
import { Account, Users } from "./Users";
import { VideoGrid, type VideoAsk } from "./VideoGrid";
import { WallMiniature } from "./WallMiniature";
import { cameraNames } from "./tree";
import { perSite, type Transport } from "./transport";
import { useSiteIds } from "./useSiteIds";
import type { Alarm, Bookmark, Caller, IncidentDetail, SavedLayout } from "./generated/hub";
import type { AppError, ConnectionState, Monitor, OutboxView, SiteTree, Startup, TileHealth, TileTour, WallView } from "./generated/app";

type Tab = "alarms" | "events" | "map" | "incidents" | "bookmarks" | "video" | "wall" | "layouts" | "health" | "users" | "account";

/** How long before an alarm its replay starts (as the app's `core::replay` does). */
const ALARM_REPLAY_BEFORE_MS = 10_000;

const TAB_NAMES: Record<Tab, string> = {
  alarms: "Alarms",
  events: "Events",
  map: "Map",
  incidents: "Incidents",
  bookmarks: "Bookmarks",
  video: "Video",
  wall: "Wall",
  layouts: "Layouts",
  health: "Stream health",
  users: "Users",
  account: "My account",
};

/** The console: sign-in, then cameras, the walls, saved layouts, tours and stream health. */
export function Console({ transport }: { transport: Transport }) {
  const [startup, setStartup] = useState<Startup | null>(null);
  const [operator, setOperator] = useState<Caller | null>(null);
  const [connection, setConnection] = useState<ConnectionState | null>(null);
  const [sites, setSites] = useState<SiteTree[]>([]);
  const [walls, setWalls] = useState<WallView[]>([]);
  const [wallId, setWallId] = useState("wall-1");
  const [layouts, setLayouts] = useState<SavedLayout[]>([]);
  const [monitors, setMonitors] = useState<Monitor[]>([]);
  const [tab, setTabState] = useState<Tab>(transport.hasWalls ? "wall" : "alarms");
  // Views stay mounted once opened, so the event buffer and the open incident survive a switch.
  const [visited, setVisited] = useState<Set<Tab>>(() => new Set([transport.hasWalls ? "wall" : "alarms"]));
  const setTab = useCallback((t: Tab) => {
    setTabState(t);
    setVisited((v) => (v.has(t) ? v : new Set(v).add(t)));
  }, []);
  const [outbox, setOutbox] = useState<OutboxView | null>(null);
  const alarmPending = useMemo(() => pendingAlarmActions(outbox), [outbox]);
  const [alarms, setAlarms] = useState<Alarm[]>([]);
  // A camera the Video tab is asked to show (a bookmark played in a browser); forgotten at
  // sign-out, so the next user's Video tab does not open on it.
  const [videoAsk, setVideoAsk] = useState<VideoAsk | null>(null);
  const asks = useRef(0);
  useEffect(() => {
    if (!operator) setVideoAsk(null);
  }, [operator]);

  const [expandedAlarm, setExpandedAlarm] = useState<string | null>(null);
  const [openIncident, setOpenIncident] = useState<string | null>(null);
  const [made, setMade] = useState<{ detail: IncidentDetail; queued: boolean; problem: string | null } | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [snapshot, setSnapshot] = useState<string | null>(null);
  const [problems, setProblems] = useState<string[]>([]);

  const act = useCallback(
    async (command: string, args?: Record<string, unknown>) => {
      try {
        setError(null);
        return await transport.call(command, args);
      } catch (e) {
        setError(e as AppError);
        return undefined;
      }
    },
    [transport],
  );

  const loadLayouts = useCallback(async () => {
    try {
      setLayouts(await transport.call<SavedLayout[]>("layouts"));
    } catch {
      // Not signed in yet, or the hub is away: the list stays as it was.
    }
  }, [transport]);

  useEffect(() => {
    let stop: (() => void) | undefined;
    void (async () => {
      stop = await transport.listen((event) => {
        if (event.type === "connection") {
          setConnection(event.state);
          if (event.state.link === "signed-out") setOperator(null);
        } else if (event.type === "walls") setWalls(event.walls);
        else if (event.type === "cameras") void transport.call<SiteTree[]>("cameras").then(setSites);
        else if (event.type === "layouts") void loadLayouts();
        else if (event.type === "problem") setProblems((p) => (p.includes(event.message) ? p : [...p, event.message]));
        else if (event.type === "outbox") setOutbox(event.outbox);
        else if (event.type === "hub-change" && event.change.kind === "alarm" && event.change.data) {
          const alarm = event.change.data as Alarm;
          setAlarms((list) => upsertAlarm(list, alarm));
        }
      });
      const start = await transport.call<Startup>("startup");
      setStartup(start);
      setProblems((p) => [...new Set([...p, ...start.problems])]);
      setOperator(start.operator);
      setConnection(start.connection);
      setSites(await transport.call<SiteTree[]>("cameras"));
      setWalls(await transport.call<WallView[]>("walls"));
      if (transport.hasWalls) setMonitors(await transport.call<Monitor[]>("monitors"));
      if (start.operator) void loadLayouts();
    })();
    return () => stop?.();
  }, [transport, loadLayouts]);

  // Signed in: the open alarms and the outbox.
  const signedIn = operator?.user_id ?? null;
  const siteIds = useSiteIds(sites);
  useEffect(() => {
    if (!signedIn) return;
    let live = true;
    void Promise.all(
      (["new", "acknowledged"] as const).map((state) => perSite<Alarm>(transport, siteIds, (site) => `/alarms?site=${site}&state=${state}&limit=1000`)),
    )
      .then((lists) => live && setAlarms((now) => mergeAlarms(...lists, now)))
      .catch((e: AppError) => live && setError(e));
    transport
      .call<OutboxView>("outbox")
      .then((o) => live && setOutbox(o))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [transport, signedIn, siteIds]);

  const names = useMemo(() => cameraNames(sites), [sites]);
  const cameraSites = useMemo(
    () => new Map(sites.flatMap((site) => site.floors.flatMap((floor) => floor.cameras.map((c) => [c.id, site.id] as const)))),
    [sites],
  );
  const siteList = useMemo(() => sites.map((s) => ({ id: s.id, name: s.name })), [sites]);
  const banner = bannerAlarm(alarms);
  const wall = walls.find((w) => w.id === wallId) ?? walls[0];

  if (!startup || !connection) return <p className="note">Starting…</p>;
  if (!operator) {
    return (
      <>
        <StatusBar connection={connection} operator={null} onSignOut={() => undefined} />
        <Problems problems={problems} />
        <SignIn
          transport={transport}
          last={startup.last_sign_in}
          keychainProblem={startup.keychain}
          demoAvailable={startup.demo_available}
          onSignedIn={(op) => {
            setOperator(op);
            void loadLayouts();
            transport.call<SiteTree[]>("cameras").then(setSites, () => undefined);
          }}
        />
      </>
    );
  }

  const id = wall?.id ?? wallId;
  const tabs: Tab[] = [
    ...(transport.hasWalls
      ? (["wall", "alarms", "events", "map", "incidents", "bookmarks", "layouts", "health"] as const)
      : (["alarms", "events", "map", "incidents", "bookmarks", "video"] as const)),
    // Accounts are managed by IT admins for every site (the hub's `manage-users` on `*`).
    ...(can(operator, "*", "manage-users") ? (["users"] as const) : []),
    "account",
  ];
  const shows = (t: Tab) => visited.has(t) || tab === t;

  /** What each replaying tile of wall `wallId` shows now: tile to capture time (Unix ms). */
  const replayedNow = async (wallId: string): Promise<Map<number, number>> => {
    const health = (await act("stream_health")) as TileHealth[] | undefined;
    return new Map(
      (health ?? []).flatMap((h) => (h.wall === wallId && h.replay?.now_capture_ms != null ? [[h.tile, h.replay.now_capture_ms] as const] : [])),
    );
  };

  /** Bookmarks what tile `tile` shows: the instant it replays, or now. */
  const bookmark = async (shownWall: WallView, tile: number, note: string, lastS: number) => {
    const camera = shownWall.cameras[tile];
    const site = sites.find((s) => s.floors.some((f) => f.cameras.some((c) => c.id === camera)))?.id;
    if (!camera || !site) return;
    let at = Date.now();
    if ((shownWall.replaying ?? []).some((r) => r.tile === tile)) {
      at = (await replayedNow(shownWall.id)).get(tile) ?? at;
    }
    await act("hub_write", {
      method: "POST",
      path: `/sites/${encodeURIComponent(site)}/bookmarks`,
      body: newBookmark(newId(), camera, at, note, lastS),
    });
  };

  // A frame back on a wall in playback: the wall's replays are read forwards only, so it is
  // shown again from just before the latest frame a tile shows (that tile shows the frame
  // before it; the others, shown the frame at or before the instant, keep theirs). Paused.
  const stepBack = async (wallId: string) => {
    const shown = [...(await replayedNow(wallId)).values()];
    if (shown.length === 0) return;
    await act("wall_playback_control", { wall: wallId, control: { kind: "pause" } });
    await act("wall_playback_seek", { wall: wallId, atMs: Math.max(...shown) - 1 });
  };

  // A bookmark played: its camera replayed on the walls in the app; in a browser, shown in the
  // Video tab at its instant.
  const playBookmark = (b: Bookmark) => {
    const fromMs = Date.parse(b.at);
    if (transport.hasWalls) {
      setTab("wall");
      void act("camera_replay", { camera: b.camera, fromMs });
    } else {
      setVideoAsk({ seq: ++asks.current, site: b.site, cameras: [b.camera], atMs: fromMs });
      setTab("video");
    }
  };

  // An alarm replayed from ten seconds before it: its cameras on the walls in the app; in a
  // browser, in the Video tab (one view, or the 2x2 grid on one clock for several).
  const replayAlarm = async (a: Alarm) => {
    if (transport.hasWalls) {
      await transport.call("alarm_replay", { alarm: a.id });
      return;
    }
    setVideoAsk({ seq: ++asks.current, site: a.site, cameras: a.cameras.slice(0, 4), atMs: Date.parse(a.raised) - ALARM_REPLAY_BEFORE_MS });
    setTab("video");
  };

  const createIncident = async (alarm: Alarm) => {
    try {
      setError(null);
      const result = await createFromAlarm(transport, operator, alarm, transport.hasWalls ? id : null);
      setMade({
        detail: result.detail,
        queued: result.queued,
        problem: result.snapshotError ? `The wall picture was not attached: ${result.snapshotError.message}` : null,
      });
      setOpenIncident(result.id);
      setTab("incidents");
    } catch (e) {
      setError(e as AppError);
    }
  };

  return (
    <div className="console">
      <StatusBar
        connection={connection}
        operator={operator}
        onSignOut={() => void act("sign_out", { forgetPassword: false })}
        outbox={outbox}
        onDiscard={(item) => void act("outbox_discard", { id: item })}
      />
      {banner && (
        <AlarmBanner
          alarm={banner}
          onShow={() => {
            setExpandedAlarm(banner.id);
            setTab("alarms");
          }}
          onAcknowledge={() =>
            void alarmAction(transport, banner, "acknowledge", "")
              // Queued instead, the outbox event shows it as waiting.
              .then((r) => "alarm" in r && setAlarms((list) => upsertAlarm(list, r.alarm)))
              .catch((e: AppError) => setError(e))
          }
        />
      )}
      <div className="console-main">
        <CameraTree
          sites={sites}
          canPut={transport.hasWalls}
          onPut={(camera) => wall && void act("wall_assign", { wall: id, tile: wall.selected, camera })}
          onShowAll={(cameras) => void act("wall_fill", { wall: id, cameras })}
        />
        <div className="work">
          <nav className="tabs" role="tablist" aria-label="Console views">
            {tabs.map((t) => (
              <button key={t} type="button" role="tab" data-tab={t} aria-selected={tab === t} onClick={() => setTab(t)}>
                {TAB_NAMES[t]}
                {t === "alarms" && alarms.some((a) => a.state === "new") ? ` (${alarms.filter((a) => a.state === "new").length} new)` : ""}
              </button>
            ))}
          </nav>
          <Problems problems={problems} />
          <ErrorNote error={error} />
          {shows("alarms") && (
            <div hidden={tab !== "alarms"}>
              <Alarms
                transport={transport}
                operator={operator}
                alarms={alarms}
                pending={alarmPending}
                expanded={expandedAlarm}
                onExpand={setExpandedAlarm}
                onChanged={(a) => setAlarms((list) => upsertAlarm(list, a))}
                onQueued={() => undefined}
                onCreateIncident={(a) => void createIncident(a)}
                onReplay={replayAlarm}
              />
            </div>
          )}
          {shows("events") && (
            <div className="events-tab" hidden={tab !== "events"}>
              <EventLog transport={transport} sites={siteList} />
            </div>
          )}
          {shows("map") && (
            <div hidden={tab !== "map"}>
              <FloorMap
                transport={transport}
                operator={operator}
                sites={siteList}
                onPutCamera={transport.hasWalls && wall ? (camera) => void act("wall_assign", { wall: id, tile: wall.selected, camera }) : undefined}
              />
            </div>
          )}
          {shows("bookmarks") && (
            <div hidden={tab !== "bookmarks"}>
              <Bookmarks transport={transport} operator={operator} sites={siteList} names={names} onPlay={playBookmark} />
            </div>
          )}
          {shows("video") && (
            <div hidden={tab !== "video"}>
              <VideoGrid sites={sites} ask={videoAsk} hubGet={(path) => transport.call("hub_get", { path })} alarms={alarms} />
            </div>
          )}
          {shows("users") && (
            <div hidden={tab !== "users"}>
              <Users transport={transport} operator={operator} sites={siteList} />
            </div>
          )}
          {shows("account") && (
            <div hidden={tab !== "account"}>
              <Account transport={transport} operator={operator} onSignedOut={() => void act("sign_out", { forgetPassword: false })} />
            </div>
          )}
          {shows("incidents") && (
            <div hidden={tab !== "incidents"}>
              <Incidents
                transport={transport}
                operator={operator}
                sites={siteList}
                openId={openIncident}
                onOpen={setOpenIncident}
                made={made}
                onPlayBookmark={playBookmark}
              />
            </div>
          )}
          {tab === "wall" && wall && (
            <>
              {transport.hasWalls && (
                <div className="row" role="toolbar" aria-label="Walls">
                  {walls.map((w) => (
                    <button key={w.id} type="button" aria-pressed={w.id === id} onClick={() => setWallId(w.id)}>
                      {w.id.replace("-", " ")}
                    </button>
                  ))}
                  <button type="button" onClick={() => void act("wall_add").then((n) => typeof n === "string" && setWallId(n))}>
                    Add wall window
                  </button>
                  {monitors.map((m) => (
                    <button key={m.index} type="button" onClick={() => void act("wall_place", { wall: id, monitor: m.index, fullscreen: true })}>
                      Full screen on {m.name} ({m.width}×{m.height})
                    </button>
                  ))}
                  <button
                    type="button"
                    data-action="snapshot"
                    onClick={() => void act("wall_snapshot", { wall: id }).then((s) => s && setSnapshot((s as { path: string }).path))}
                  >
                    Snapshot
                  </button>
                  {walls.length > 1 && (
                    <button type="button" className="quiet" onClick={() => void act("wall_close", { wall: id })}>
                      Close this wall
                    </button>
                  )}
                </div>
              )}
              {snapshot && (
                <p className="note" data-snapshot={snapshot}>
                  Snapshot saved: {snapshot}
                </p>
              )}
              {transport.hasWalls && wall.playback && (
                <Playback
                  playback={wall.playback}
                  cameras={[...new Set(wall.cameras.filter((c): c is string => !!c))]
                    .filter((c) => cameraSites.has(c))
                    .map((c) => ({ id: c, site: cameraSites.get(c) ?? "", name: names.get(c) ?? c }))}
                  liveAlarms={alarms}
                  hubGet={(path) => transport.call("hub_get", { path })}
                  onControl={(control) => void act("wall_playback_control", { wall: id, control })}
                  onSeek={(atMs) => void act("wall_playback_seek", { wall: id, atMs })}
                  onStepBack={() => void stepBack(id)}
                  onLive={() => void act("wall_live_all", { wall: id })}
                />
              )}
              <WallMiniature
                wall={wall}
                names={names}
                onPreset={(preset) => void act("wall_preset", { wall: id, preset })}
                onSelect={(tile) => void act("wall_select", { wall: id, tile })}
                onDrop={(tile, camera) => void act("wall_assign", { wall: id, tile, camera })}
                onClear={(tile) => void act("wall_assign", { wall: id, tile, camera: null })}
                onMaximize={(tile) => void act("wall_maximize", { wall: id, tile })}
                onAlarmTiles={transport.hasWalls ? (tiles) => void act("wall_alarm_tiles", { wall: id, tiles }) : undefined}
                onReplay={transport.hasWalls ? (tile) => void act("wall_replay", { wall: id, tile, fromMs: null }) : undefined}
                onLive={transport.hasWalls ? (tile) => void act("wall_live", { wall: id, tile }) : undefined}
                onReplayAlarm={transport.hasWalls ? (alarm) => void act("alarm_replay", { alarm }) : undefined}
                onBookmark={transport.hasWalls ? (tile, note, lastS) => void bookmark(wall, tile, note, lastS) : undefined}
                onReplayWall={transport.hasWalls ? (fromMs) => void act("wall_replay_all", { wall: id, fromMs }) : undefined}
                onLiveWall={transport.hasWalls ? () => void act("wall_live_all", { wall: id }) : undefined}
                replaySeconds={startup?.instant_replay_s}
                onReplaySeconds={
                  transport.hasWalls
                    ? (seconds) =>
                        void transport
                          .call("instant_replay_set", { seconds })
                          .then(() => setStartup((s) => (s ? { ...s, instant_replay_s: seconds } : s)))
                          .catch((e) => setError(e as AppError))
                    : undefined
                }
              />
              <TourEditor
                key={`${id}-${wall.selected}`}
                tile={wall.selected}
                tour={wall.tours[wall.selected] ?? null}
                sites={sites}
                onSet={(tour: TileTour | null) => void act("wall_tour", { wall: id, tile: wall.selected, tour })}
              />
            </>
          )}
          {tab === "layouts" && (
            <Layouts
              layouts={layouts}
              operator={operator}
              onOpen={(layout) => void act("layout_open", { wall: id, id: layout })}
              onSave={async (name, sharedSite) => {
                await transport.call("layout_save", { wall: id, name, sharedSite, id: null });
                await loadLayouts();
              }}
              onDelete={(layout) => void act("layout_delete", { id: layout }).then(loadLayouts)}
            />
          )}
          {tab === "health" && <HealthTable transport={transport} names={names} />}
        </div>
      </div>
    </div>
  );
}

/** What must be fixed for the app to work fully, in words that say how. */
function Problems({ problems }: { problems: string[] }) {
  if (problems.length === 0) return null;
  return (
    <ul className="problems" role="alert" aria-label="Problems">
      {problems.map((p) => (
        <li key={p}>▲ {p}</li>
      ))}
    </ul>
  );
}
