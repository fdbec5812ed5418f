import { useCallback, useEffect, useMemo, useState } from "react";
import { CameraTree } from "./CameraTree";
import { HealthTable } from "./HealthTable";
import { Layouts } from "./Layouts";
import { SignIn } from "./SignIn";
import { StatusBar } from "./StatusBar";
import { TourEditor } from "./TourEditor";
import { WallMiniature } from "./WallMiniature";
import { cameraNames } from "./tree";
import type { Transport } from "./transport";
import type { AppError, ConnectionState, Monitor, Operator, SavedLayout, SiteTree, Startup, Tour, WallView } from "./types";

type Tab = "wall" | "layouts" | "health";

/** The console: sign-in, then cameras, the walls, saved layouts, tours and stream health. */
export function Console({ transport }: { transport: Transport }) {
  const [startup, setStartup] = useState<Startup | null>(null);
  const [operator, setOperator] = useState<Operator | null>(null);
  const [connection, setConnection] = useState<ConnectionState | null>(null);
  const [sites, setSites] = useState<SiteTree[]>([]);
  const [walls, setWalls] = useState<WallView[]>([]);
  const [wallId, setWallId] = useState("wall-1");
  const [layouts, setLayouts] = useState<SavedLayout[]>([]);
  const [monitors, setMonitors] = useState<Monitor[]>([]);
  const [tab, setTab] = useState<Tab>("wall");
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

  const names = useMemo(() => cameraNames(sites), [sites]);
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
          onSignedIn={(op) => {
            setOperator(op);
            void loadLayouts();
          }}
        />
      </>
    );
  }

  const id = wall?.id ?? wallId;
  return (
    <div className="console">
      <StatusBar connection={connection} operator={operator} onSignOut={() => void act("sign_out", { forgetPassword: false })} />
      <div className="console-main">
        <CameraTree
          sites={sites}
          onPut={(camera) => wall && void act("wall_assign", { wall: id, tile: wall.selected, camera })}
          onShowAll={(cameras) => void act("wall_fill", { wall: id, cameras })}
        />
        <div className="work">
          <nav className="tabs" role="tablist" aria-label="Console views">
            {(["wall", "layouts", "health"] as const).map((t) => (
              <button key={t} type="button" role="tab" data-tab={t} aria-selected={tab === t} onClick={() => setTab(t)}>
                {t === "wall" ? "Wall" : t === "layouts" ? "Layouts" : "Stream health"}
              </button>
            ))}
          </nav>
          <Problems problems={problems} />
          {error && (
            <p className="error" role="alert" data-code={error.code}>
              {error.message}
            </p>
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
              <WallMiniature
                wall={wall}
                names={names}
                onPreset={(preset) => void act("wall_preset", { wall: id, preset })}
                onSelect={(tile) => void act("wall_select", { wall: id, tile })}
                onDrop={(tile, camera) => void act("wall_assign", { wall: id, tile, camera })}
                onClear={(tile) => void act("wall_assign", { wall: id, tile, camera: null })}
                onMaximize={(tile) => void act("wall_maximize", { wall: id, tile })}
              />
              <TourEditor
                key={`${id}-${wall.selected}`}
                tile={wall.selected}
                tour={wall.tours[wall.selected] ?? null}
                sites={sites}
                onSet={(tour: Tour | null) => void act("wall_tour", { wall: id, tile: wall.selected, tour })}
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
