import { useState, type DragEvent, type KeyboardEvent } from "react";
import { CAMERA_MIME } from "./CameraTree";
import { PRESETS, neighbour, placement, type Direction } from "./layouts";
import type { WallView } from "./generated/app";
import { clock } from "./time";
import { BOOKMARK_SPANS } from "./bookmarks";

const KEYS: Record<string, Direction> = {
  ArrowLeft: "left",
  ArrowRight: "right",
  ArrowUp: "up",
  ArrowDown: "down",
};

/** The wall in miniature: pick a preset; drop a camera on a tile; select a tile with the
 *  mouse or arrow keys; Enter maximises and restores it; Delete empties it; R replays the
 *  last seconds of its camera and L takes it back to live. */
export function WallMiniature(props: {
  wall: WallView;
  names: Map<string, string>;
  onPreset: (preset: string) => void;
  onSelect: (tile: number) => void;
  onDrop: (tile: number, camera: string) => void;
  onClear: (tile: number) => void;
  onMaximize: (tile: number | null) => void;
  /** Sets which tiles alarms take over. */
  onAlarmTiles?: (tiles: number[]) => void;
  /** Instant replay of a tile, and back to live (walls in the app only). */
  onReplay?: (tile: number) => void;
  onLive?: (tile: number) => void;
  /** Replays the alarm holding a tile from ten seconds before it. */
  onReplayAlarm?: (alarm: string) => void;
  /** Bookmarks what a tile shows now (live, or the instant it replays), with a note. */
  /** Bookmarks what `tile` shows: its instant, or the `lastS` seconds up to it. */
  onBookmark?: (tile: number, note: string, lastS: number) => void;
  /** Plays the whole wall back from an instant (Unix ms), every tile on one clock, and takes
   *  them all back to live. */
  onReplayWall?: (fromMs: number) => void;
  onLiveWall?: () => void;
  /** How far back instant replay goes, in seconds, and a change of it. */
  replaySeconds?: number;
  onReplaySeconds?: (seconds: number) => void;
}) {
  const { wall } = props;
  const tiles = wall.layout.tiles;
  const maximized = wall.layout.maximized ?? null;
  const selected = wall.selected;
  const alarmTiles = wall.alarm_tiles ?? [];
  const flashing = wall.flashing ?? [];
  const replaying = new Map((wall.replaying ?? []).map((r) => [r.tile, r.from_ms]));
  const selectedCamera = wall.cameras[selected] ?? null;
  const selectedAlarm = wall.alarm_holds?.[selected]?.alarm ?? null;
  const [marking, setMarking] = useState<{ tile: number; note: string; lastS: number } | null>(null);
  const [wallAt, setWallAt] = useState("");
  const toggleAlarmTile = () =>
    props.onAlarmTiles?.(
      alarmTiles.includes(selected) ? alarmTiles.filter((t) => t !== selected) : [...alarmTiles, selected].sort((a, b) => a - b),
    );

  const onKey = (event: KeyboardEvent) => {
    const direction = KEYS[event.key];
    if (direction && maximized === null) {
      props.onSelect(neighbour(tiles, selected, direction));
    } else if (event.key === "Enter") {
      props.onMaximize(maximized === null ? selected : null);
    } else if (event.key === "Delete" || event.key === "Backspace") {
      props.onClear(selected);
    } else if (event.key === "a" && props.onAlarmTiles) {
      toggleAlarmTile();
    } else if (event.key === "r" && props.onReplay && selectedCamera) {
      props.onReplay(selected);
    } else if (event.key === "l" && props.onLive && replaying.has(selected)) {
      props.onLive(selected);
    } else if (event.key === "b" && props.onBookmark && selectedCamera) {
      setMarking({ tile: selected, note: "", lastS: 0 });
    } else if (/^[1-9]$/.test(event.key) && Number(event.key) <= tiles.length) {
      props.onSelect(Number(event.key) - 1);
    } else {
      return;
    }
    event.preventDefault();
  };

  const drop = (tile: number) => (event: DragEvent) => {
    const camera = event.dataTransfer.getData(CAMERA_MIME) || event.dataTransfer.getData("text/plain");
    if (camera) {
      event.preventDefault();
      props.onDrop(tile, camera);
    }
  };

  const shown = maximized === null ? tiles.map((t, i) => [i, t] as const) : [[maximized, { x: 0, y: 0, w: 1, h: 1 }] as const];

  return (
    <section className="panel" aria-labelledby={`wall-title-${wall.id}`}>
      <h2 id={`wall-title-${wall.id}`}>
        {wall.id.replace("-", " ")} {wall.on_screen ? "" : "(no window)"}
      </h2>
      <div className="presets" role="toolbar" aria-label="Layout presets">
        {PRESETS.map((p) => (
          <button key={p.name} type="button" data-preset={p.name} aria-pressed={p.name === wall.layout.name} onClick={() => props.onPreset(p.name)}>
            {p.name}
          </button>
        ))}
      </div>
      <div className="miniature" role="grid" aria-label={`Wall, layout ${wall.layout.name}`} tabIndex={0} onKeyDown={onKey}>
        {shown.map(([index, tile]) => {
          const camera = wall.cameras[index] ?? null;
          const tour = wall.tours[index] ?? null;
          const alarm = alarmTiles.includes(index);
          const flash = flashing.includes(index);
          const replayFrom = replaying.get(index);
          return (
            <button
              key={index}
              type="button"
              role="gridcell"
              className={`tile${camera ? " filled" : ""}${alarm ? " alarm-tile" : ""}${flash ? " flashing" : ""}${replayFrom !== undefined ? " replaying" : ""}`}
              data-tile={index}
              data-camera={camera ?? ""}
              data-alarm-tile={alarm || undefined}
              data-flashing={flash || undefined}
              data-replay-from={replayFrom}
              style={placement(tile)}
              aria-selected={index === selected}
              aria-label={`Tile ${index + 1}: ${camera ? props.names.get(camera) ?? camera : "empty"}${tour ? ", tour" : ""}${alarm ? ", alarm tile" : ""}${flash ? ", alarm!" : ""}${replayFrom !== undefined ? `, replay from ${clock(replayFrom)}` : ""}`}
              onClick={() => props.onSelect(index)}
              onDoubleClick={() => props.onMaximize(maximized === null ? index : null)}
              onDragOver={(e) => {
                e.preventDefault();
                e.dataTransfer.dropEffect = "copy";
              }}
              onDrop={drop(index)}
            >
              <span className="tile-number">
                {index + 1}
                {alarm && <span className="tile-alarm">{flash ? " ⬣ ALARM" : " ⬣ alarm tile"}</span>}
                {replayFrom !== undefined && <span className="tile-replay"> ◀ REPLAY {clock(replayFrom)}</span>}
              </span>
              <span className="tile-camera">
                {camera ? props.names.get(camera) ?? camera : ""}
                {tour ? " ⟳" : ""}
              </span>
            </button>
          );
        })}
      </div>
      <p className="hint">
        Tile {selected + 1} of {tiles.length}
        {maximized !== null ? " (maximised)" : ""} · drop a camera on a tile · arrows move · Enter maximises · Delete empties
        {props.onAlarmTiles ? " · A makes it an alarm tile" : ""}
        {props.onReplay ? ` · R replays the last ${props.replaySeconds ?? 30} s · L back to live` : ""}
        {props.onReplay && selectedCamera && !replaying.has(selected) && (
          <>
            {" "}
            <button type="button" className="quiet" data-action="replay" onClick={() => props.onReplay?.(selected)}>
              Tile {selected + 1}: replay {props.replaySeconds ?? 30} s
            </button>
          </>
        )}
        {props.onBookmark && ` · B bookmarks it`}
        {props.onBookmark && selectedCamera && !marking && (
          <>
            {" "}
            <button type="button" className="quiet" data-action="bookmark" onClick={() => setMarking({ tile: selected, note: "", lastS: 0 })}>
              Tile {selected + 1}: bookmark
            </button>
          </>
        )}
        {props.onReplayAlarm && selectedAlarm && (
          <>
            {" "}
            <button type="button" className="quiet" data-action="replay-alarm-tile" onClick={() => props.onReplayAlarm?.(selectedAlarm)}>
              Tile {selected + 1}: replay the alarm from 10 s before
            </button>
          </>
        )}
        {props.onLive && replaying.has(selected) && (
          <>
            {" "}
            <button type="button" className="quiet" data-action="live" onClick={() => props.onLive?.(selected)}>
              Tile {selected + 1}: back to live
            </button>
          </>
        )}
        {props.onAlarmTiles && (
          <>
            {" "}
            <button type="button" className="quiet" data-action="alarm-tile" aria-pressed={alarmTiles.includes(selected)} onClick={toggleAlarmTile}>
              {alarmTiles.includes(selected) ? `Tile ${selected + 1}: stop taking alarms` : `Tile ${selected + 1}: take alarms`}
            </button>
          </>
        )}
      </p>
      {props.onReplayWall && (
        <form
          className="row"
          aria-label="Replay the whole wall"
          onSubmit={(e) => {
            e.preventDefault();
            if (wallAt) props.onReplayWall?.(new Date(wallAt).getTime());
          }}
        >
          <label>
            Replay every tile from{" "}
            <input type="datetime-local" step="1" name="wall-replay-at" value={wallAt} onChange={(e) => setWallAt(e.target.value)} />
          </label>
          <button type="submit" data-action="replay-wall" disabled={!wallAt}>
            Replay wall
          </button>
          {props.replaySeconds !== undefined && (
            <button
              type="button"
              data-action="replay-wall-recent"
              data-seconds={props.replaySeconds}
              onClick={() => props.onReplayWall?.(Date.now() - (props.replaySeconds ?? 30) * 1000)}
            >
              Play the wall back {props.replaySeconds} s
            </button>
          )}
          {props.onReplaySeconds && (
            <label>
              Instant replay reach (s){" "}
              <input
                type="number"
                name="instant-replay-s"
                min={5}
                max={600}
                key={props.replaySeconds}
                defaultValue={props.replaySeconds ?? 30}
                onKeyDown={(e) => {
                  if (e.key === "Enter") {
                    e.preventDefault();
                    e.currentTarget.blur();
                  }
                }}
                onBlur={(e) => {
                  const seconds = Number(e.currentTarget.value);
                  if (Number.isInteger(seconds) && seconds >= 5 && seconds <= 600 && seconds !== props.replaySeconds) {
                    props.onReplaySeconds?.(seconds);
                  }
                }}
              />
            </label>
          )}
          {replaying.size > 0 && props.onLiveWall && (
            <button type="button" data-action="live-wall" onClick={() => props.onLiveWall?.()}>
              All live
            </button>
          )}
        </form>
      )}
      {marking && (
        <form
          className="row"
          data-marking={marking.tile}
          onSubmit={(e) => {
            e.preventDefault();
            props.onBookmark?.(marking.tile, marking.note.trim(), marking.lastS);
            setMarking(null);
          }}
        >
          <input
            name="bookmark-note"
            aria-label={`Note for the bookmark on tile ${marking.tile + 1}`}
            placeholder={`Bookmark tile ${marking.tile + 1}: what is there?`}
            autoFocus
            value={marking.note}
            onChange={(e) => setMarking({ ...marking, note: e.target.value })}
            onKeyDown={(e) => e.key === "Escape" && setMarking(null)}
          />
          <select
            name="bookmark-span"
            aria-label="What the bookmark covers"
            value={marking.lastS}
            onChange={(e) => setMarking({ ...marking, lastS: Number(e.target.value) })}
          >
            {BOOKMARK_SPANS.map((s) => (
              <option key={s} value={s}>
                {s === 0 ? "this instant" : s < 60 ? `the last ${s} s` : `the last ${s / 60} min`}
              </option>
            ))}
          </select>
          <button type="submit" data-action="save-bookmark">
            Save bookmark
          </button>
        </form>
      )}
    </section>
  );
}
