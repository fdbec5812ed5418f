import { ErrorNote } from "./ErrorNote";
import { clock, when } from "./time";
import { useEffect, useMemo, useState } from "react";
import { newId } from "./ids";
import { applyDoorChange, applyDoorEvent, doorLook, pins, type DoorLook } from "./map";
import { can } from "./rights";
import { useSiteChoice } from "./useSiteIds";
import type { Transport } from "./transport";
import type { Caller, Door, Event as HubEvent, SiteDetail } from "./generated/hub";
import type { AppError, WriteOutcome } from "./generated/app";

type Confirm = { kind: "unlock"; door: Door } | { kind: "lockdown"; on: boolean };

/** A floor plan with cameras (and what they see) and doors (with their live state). Click a
 *  camera to put it on the wall's selected tile; click a door for its events and commands. */
export function FloorMap(props: {
  transport: Transport;
  operator: Caller;
  sites: { id: string; name: string }[];
  /** Puts a camera on the selected wall tile; absent where there are no walls (the browser). */
  onPutCamera?: (camera: string) => void;
}) {
  const { transport, operator } = props;
  const [siteId, setSiteId] = useSiteChoice(props.sites);
  const [site, setSite] = useState<SiteDetail | null>(null);
  const [floorId, setFloorId] = useState<string>("");
  const [plan, setPlan] = useState<string | null>(null);
  const [doorId, setDoorId] = useState<string | null>(null);
  const [error, setError] = useState<AppError | null>(null);

  useEffect(() => {
    if (!siteId) return;
    let live = true;
    transport
      .call<SiteDetail>("hub_get", { path: `/sites/${encodeURIComponent(siteId)}` })
      .then((detail) => {
        if (!live) return;
        setSite(detail);
        setFloorId((f) => (detail.floors.some((x) => x.id === f) ? f : (detail.floors[0]?.id ?? "")));
        setError(null);
      })
      .catch((e: AppError) => live && setError(e));
    return () => {
      live = false;
    };
  }, [transport, siteId]);

  useEffect(() => {
    if (!siteId || !floorId) return;
    let live = true;
    setPlan(null);
    transport
      .call<string>("floor_plan", { site: siteId, floor: floorId })
      .then((src) => live && setPlan(src))
      .catch((e: AppError) => live && setError(e));
    return () => {
      live = false;
    };
  }, [transport, siteId, floorId]);

  // Doors change live: their events, and the hub's own `door` change with the whole state.
  useEffect(() => {
    let stop: (() => void) | undefined;
    let live = true;
    void transport
      .listen((event) => {
        if (event.type !== "hub-change" || !event.change.data) return;
        const { kind, data } = event.change;
        if (kind === "event") setSite((s) => (s ? applyDoorEvent(s, data as HubEvent) : s));
        else if (kind === "door") setSite((s) => (s ? applyDoorChange(s, data as Door) : s));
      })
      .then((f) => (live ? (stop = f) : f()));
    return () => {
      live = false;
      stop?.();
    };
  }, [transport]);

  const floor = site?.floors.find((f) => f.id === floorId);
  const shown = useMemo(() => (site && floorId ? pins(site, floorId) : { cameras: [], doors: [] }), [site, floorId]);
  const door = site?.doors.find((d) => d.id === doorId) ?? null;

  return (
    <div className="map-view">
      <section className="panel map" aria-labelledby="map-title">
        <h2 id="map-title">Map</h2>
        <div className="row" role="toolbar" aria-label="Site and floor">
          {props.sites.length > 1 && (
            <select aria-label="Site" value={siteId} onChange={(e) => {
                // The old site's floor must not be asked of the new site.
                setFloorId("");
                setSiteId(e.target.value);
              }}>
              {props.sites.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          )}
          {site?.floors.map((f) => (
            <button key={f.id} type="button" data-floor={f.id} aria-pressed={f.id === floorId} onClick={() => setFloorId(f.id)}>
              {f.name}
            </button>
          ))}
        </div>
        <ErrorNote error={error} />
        {floor && (
          <div className="floor-map" style={{ aspectRatio: `${floor.width} / ${floor.height}` }}>
            {plan && <img className="floor-plan" src={plan} alt={`Plan of ${floor.name}`} />}
            <svg className="floor-overlay" viewBox={`0 0 ${floor.width} ${floor.height}`} role="group" aria-label={`Cameras and doors on ${floor.name}`}>
              {shown.cameras.map((c) => (
                <g
                  key={c.id}
                  className={`camera-pin${props.onPutCamera ? " actionable" : ""}`}
                  data-camera-id={c.id}
                  role={props.onPutCamera ? "button" : "img"}
                  tabIndex={props.onPutCamera ? 0 : undefined}
                  aria-label={props.onPutCamera ? `Camera ${c.name}: put on the selected tile` : `Camera ${c.name}`}
                  onClick={() => props.onPutCamera?.(c.id)}
                  onKeyDown={(e) => {
                    if ((e.key === "Enter" || e.key === " ") && props.onPutCamera) {
                      props.onPutCamera(c.id);
                      e.preventDefault();
                    }
                  }}
                >
                  <title>{c.name}</title>
                  <path className="cone" d={c.cone} />
                  <circle cx={c.x} cy={c.y} r={9} />
                  <text x={c.x} y={c.y + 24} textAnchor="middle" className="pin-label">
                    {c.name}
                  </text>
                </g>
              ))}
              {shown.doors.map((d) => (
                <g
                  key={d.id}
                  className={`door-pin door-${d.look.state}${d.id === doorId ? " selected" : ""}${d.look.urgent ? " urgent" : ""}`}
                  data-door-id={d.id}
                  data-door-state={d.look.state}
                  role="button"
                  tabIndex={0}
                  aria-label={`Door ${d.name}: ${d.look.label}`}
                  aria-pressed={d.id === doorId}
                  onClick={() => setDoorId(d.id)}
                  onKeyDown={(e) => {
                    if (e.key === "Enter" || e.key === " ") {
                      setDoorId(d.id);
                      e.preventDefault();
                    }
                  }}
                >
                  <title>
                    {d.name}: {d.look.label}
                  </title>
                  <DoorShape look={d.look} x={d.x} y={d.y} />
                  <text x={d.x} y={d.y + 5} textAnchor="middle" className="door-symbol">
                    {d.look.symbol}
                  </text>
                  {/* Below the pin, or above it when the pin sits on the plan's bottom edge. */}
                  <text x={d.x} y={d.y + 32 > floor.height ? d.y - 22 : d.y + 32} textAnchor="middle" className="pin-label">
                    {d.name} · {d.look.label}
                  </text>
                </g>
              ))}
            </svg>
          </div>
        )}
        <p className="hint">
          {props.onPutCamera ? "Click a camera to put it on the selected tile · " : ""}click a door for its events and commands ·
          Tab reaches every pin
        </p>
      </section>
      {door && site && <DoorPanel key={door.id} transport={transport} operator={operator} site={site} door={door} onClose={() => setDoorId(null)} />}
    </div>
  );
}

/** The pin's outline: one shape per state, so no state is told by colour alone. */
function DoorShape({ look, x, y }: { look: DoorLook; x: number; y: number }) {
  const r = 14;
  switch (look.shape) {
    case "octagon": {
      const pts = Array.from({ length: 8 }, (_, i) => {
        const a = (Math.PI / 8) * (2 * i + 1);
        return `${x + r * 1.1 * Math.cos(a)},${y + r * 1.1 * Math.sin(a)}`;
      });
      return <polygon className="door-shape" points={pts.join(" ")} />;
    }
    case "triangle":
      return <polygon className="door-shape" points={`${x},${y - r * 1.2} ${x + r * 1.1},${y + r * 0.8} ${x - r * 1.1},${y + r * 0.8}`} />;
    case "square":
      return <rect className="door-shape" x={x - r} y={y - r} width={2 * r} height={2 * r} />;
    case "diamond":
      return <polygon className="door-shape" points={`${x},${y - r * 1.2} ${x + r * 1.2},${y} ${x},${y + r * 1.2} ${x - r * 1.2},${y}`} />;
    case "ring":
      return <circle className="door-shape ring" cx={x} cy={y} r={r} />;
    case "dashed":
      return <circle className="door-shape dashed" cx={x} cy={y} r={r} />;
    case "circle":
      return <circle className="door-shape" cx={x} cy={y} r={r} />;
  }
}

/** One door: its state, recent events, and the commands the operator's role allows, each
 *  behind a confirmation that names the door or site. */
function DoorPanel(props: { transport: Transport; operator: Caller; site: SiteDetail; door: Door; onClose: () => void }) {
  const { transport, operator, site, door } = props;
  const [events, setEvents] = useState<HubEvent[] | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  const [busy, setBusy] = useState(false);
  const look = doorLook(door);

  useEffect(() => {
    let live = true;
    let stop: (() => void) | undefined;
    transport
      .call<HubEvent[]>("hub_get", { path: `/events?site=${encodeURIComponent(site.id)}&door=${encodeURIComponent(door.id)}&limit=20` })
      .then((list) => live && setEvents(list))
      .catch((e: AppError) => live && setError(e));
    void transport
      .listen((event) => {
        if (event.type !== "hub-change" || event.change.kind !== "event") return;
        const e = event.change.data as HubEvent;
        if (e && e.site === site.id && e.door === door.id) setEvents((list) => [e, ...(list ?? []).filter((x) => x.id !== e.id || x.source !== e.source)].slice(0, 20));
      })
      .then((f) => (live ? (stop = f) : f()));
    return () => {
      live = false;
      stop?.();
    };
  }, [transport, site.id, door.id]);

  const run = async (c: Confirm) => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const [path, body, done] =
        c.kind === "unlock"
          ? [`/sites/${encodeURIComponent(site.id)}/doors/${encodeURIComponent(c.door.id)}/commands`, { request_id: newId(), command: "momentary-unlock" }, `${c.door.name} unlocked briefly.`]
          : [`/sites/${encodeURIComponent(site.id)}/lockdown`, { request_id: newId(), on: c.on }, c.on ? `${site.name} locked down.` : `Lockdown of ${site.name} lifted.`];
      const answer = await transport.call<WriteOutcome>("hub_write", { method: "POST", path, body });
      setResult(answer.status === "queued" ? "Queued: waiting for the hub." : done);
    } catch (e) {
      setError(e as AppError);
    } finally {
      setBusy(false);
      setConfirm(null);
    }
  };

  return (
    <aside className="panel door-panel" aria-labelledby="door-title" data-door-id={door.id}>
      <h2 id="door-title">
        Door {door.name}
        <button type="button" className="quiet" aria-label="Close door panel" onClick={props.onClose}>
          ✕
        </button>
      </h2>
      <p className={`door-state door-${look.state}`} data-door-state={look.state}>
        <span aria-hidden="true">{look.symbol}</span> {look.label}
        <span className="note">
          {" "}
          · door {door.door_state ?? "?"} · lock {door.lock_state ?? "?"} · alarm {door.alarm ?? "none"} · mode {door.mode ?? "?"}
          {door.state_time ? ` · since ${clock(door.state_time)}` : ""}
        </span>
      </p>
      <div className="row">
        {can(operator, site.id, "door-unlock") && (
          <button type="button" data-action="unlock" disabled={busy} onClick={() => setConfirm({ kind: "unlock", door })}>
            Unlock briefly
          </button>
        )}
        {can(operator, site.id, "lockdown") && (
          <>
            <button type="button" data-action="lockdown" disabled={busy} onClick={() => setConfirm({ kind: "lockdown", on: true })}>
              Lock down site
            </button>
            <button type="button" className="quiet" data-action="lift-lockdown" disabled={busy} onClick={() => setConfirm({ kind: "lockdown", on: false })}>
              Lift lockdown
            </button>
          </>
        )}
      </div>
      {confirm && (
        <div className="confirm" role="alertdialog" aria-modal="false" aria-labelledby="confirm-text">
          <p id="confirm-text">
            {confirm.kind === "unlock"
              ? `Unlock door ${confirm.door.name} (${site.name}) briefly?`
              : confirm.on
                ? `Lock down every door of ${site.name}?`
                : `Lift the lockdown of ${site.name}?`}
          </p>
          <div className="row">
            <button type="button" data-action="confirm" disabled={busy} onClick={() => void run(confirm)}>
              {confirm.kind === "unlock" ? "Unlock" : confirm.on ? "Lock down" : "Lift lockdown"}
            </button>
            <button type="button" data-action="cancel" autoFocus onClick={() => setConfirm(null)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {result && (
        <p className="result" role="status">
          ✓ {result}
        </p>
      )}
      <ErrorNote error={error} />
      <h3>Recent events</h3>
      <ul className="door-events">
        {events === null && <li className="empty">Loading…</li>}
        {events?.map((e) => (
          <li key={`${e.source}/${e.id}`}>
            <span className="note">{when(e.time)}</span> {e.type ?? e.kind}
            {(() => {
              const state = (e.body as { state?: unknown } | null)?.state;
              return typeof state === "string" ? ` · ${state}` : "";
            })()}
          </li>
        ))}
        {events?.length === 0 && <li className="empty">No events yet.</li>}
      </ul>
    </aside>
  );
}
