import { memo, useCallback, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";
import { priorityLook } from "./alarms";
import { EVENT_TYPES, RowBuffer, alarmRow, eventRow, listWindow, localTimeMs, scrollToRow, type ListRow, type RowFilter } from "./events";
import { perSite, type Transport } from "./transport";
import { useSiteIds } from "./useSiteIds";
import type { Alarm, Event as HubEvent } from "./generated/hub";

export const ROW_HEIGHT = 28;

// One formatter for every row: making one per call costs more than the rest of a row's render.
const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });

const TYPE_LOOK: Record<string, string> = {
  "access-granted": "✓",
  "access-denied": "✖",
  "door-state": "▯",
  "door-alarm": "!",
  sensor: "◉",
  system: "⚙",
  alarm: "⬣",
};

/** A buffer of rows that takes live rows in batches, one render per animation frame. */
export function useRowBuffer(capacity = 100_000) {
  const buffer = useRef<RowBuffer>(null);
  if (buffer.current === null) buffer.current = new RowBuffer(capacity);
  const [version, setVersion] = useState(0);
  const queue = useRef<ListRow[]>([]);
  const frame = useRef<number | null>(null);
  const push = useCallback((rows: ListRow[]) => {
    queue.current.push(...rows);
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      const b = buffer.current as RowBuffer;
      b.push(queue.current);
      queue.current = [];
      setVersion(b.version);
    });
  }, []);
  const setFilter = useCallback((filter: RowFilter) => {
    const b = buffer.current as RowBuffer;
    b.setFilter(filter);
    setVersion(b.version);
  }, []);
  useEffect(() => () => {
    if (frame.current !== null) cancelAnimationFrame(frame.current);
  }, []);
  return { buffer: buffer.current, version, push, setFilter };
}

/**
 * The event and alarm list, virtualised: rows have one fixed height and only those in view
 * (plus a few either side) are in the DOM, so 50,000 rows scroll as smoothly as 50. Arrow
 * keys, Page Up/Down, Home and End move the selection.
 */
export function EventList(props: {
  buffer: RowBuffer;
  version: number;
  sites: { id: string; name: string }[];
  onFilter: (filter: RowFilter) => void;
  onLoadOlder?: () => void;
  onOpen?: (row: ListRow) => void;
  busy?: boolean;
}) {
  const { buffer } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const [selected, setSelected] = useState<string | null>(null);
  const [filter, setFilterState] = useState<RowFilter>({});
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const count = buffer.shown;
  const shownBefore = useRef({ count, filter });

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setViewport(el.clientHeight || 600);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // Rows arrive above (live) or below (older ones loaded): when the operator has scrolled down,
  // the row at the top of the view stays where it is, whichever way the list grew.
  const anchor = useRef<{ key: string; offset: number } | null>(null);
  const remember = (top: number) => {
    const first = Math.floor(top / ROW_HEIGHT);
    const row = buffer.shownAt(first);
    anchor.current = row ? { key: row.key, offset: top - first * ROW_HEIGHT } : null;
  };
  useLayoutEffect(() => {
    const before = shownBefore.current;
    shownBefore.current = { count, filter };
    const el = scroller.current;
    if (!el) return;
    const held = anchor.current;
    if (held && before.filter === filter && el.scrollTop > 0) {
      const index = buffer.shownIndexOf(held.key);
      const top = index * ROW_HEIGHT + held.offset;
      if (index >= 0 && top !== el.scrollTop) {
        el.scrollTop = top;
        setScrollTop(el.scrollTop);
      }
    }
    remember(el.scrollTop);
  }, [props.version, count, filter]);

  const change = (patch: Partial<RowFilter>) => {
    const next = { ...filter, ...patch };
    setFilterState(next);
    props.onFilter(next);
  };

  const win = listWindow(scrollTop, viewport, ROW_HEIGHT, count, 8);
  const selectedIndex = (() => {
    if (selected === null) return -1;
    // Only the rows in the DOM are searched; a selection scrolled far away is kept by key.
    for (let i = win.first; i < win.last; i++) if (buffer.shownAt(i)?.key === selected) return i;
    return -1;
  })();

  const moveTo = (index: number) => {
    const i = Math.min(count - 1, Math.max(0, index));
    const row = buffer.shownAt(i);
    if (!row) return;
    setSelected(row.key);
    const el = scroller.current;
    if (el) {
      el.scrollTop = scrollToRow(i, el.scrollTop, el.clientHeight, ROW_HEIGHT);
      setScrollTop(el.scrollTop);
    }
  };

  const onKey = (event: KeyboardEvent) => {
    const page = Math.max(1, Math.floor(viewport / ROW_HEIGHT) - 1);
    const at = selectedIndex >= 0 ? selectedIndex : win.first;
    const moves: Record<string, number> = {
      ArrowDown: at + 1,
      ArrowUp: at - 1,
      PageDown: at + page,
      PageUp: at - page,
      Home: 0,
      End: count - 1,
    };
    const target = moves[event.key];
    if (target !== undefined) {
      moveTo(selected === null && event.key === "ArrowDown" ? win.first : target);
      event.preventDefault();
    } else if (event.key === "Enter" && selected) {
      const row = buffer.get(selected);
      if (row) props.onOpen?.(row);
      event.preventDefault();
    }
  };

  const rows: ListRow[] = [];
  for (let i = win.first; i < win.last; i++) {
    const row = buffer.shownAt(i);
    if (row) rows.push(row);
  }

  return (
    <section className="panel event-list" aria-labelledby="events-title">
      <h2 id="events-title">Events and alarms</h2>
      <form className="filters row" aria-label="Filter events" onSubmit={(e) => e.preventDefault()}>
        <label>
          Site
          <select name="site" value={filter.site ?? ""} onChange={(e) => change({ site: e.target.value || undefined })}>
            <option value="">All sites</option>
            {props.sites.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Type
          <select name="type" value={filter.type ?? ""} onChange={(e) => change({ type: e.target.value || undefined })}>
            <option value="">All types</option>
            {EVENT_TYPES.map((t) => (
              <option key={t} value={t}>
                {t.replace("-", " ")}
              </option>
            ))}
          </select>
        </label>
        <label>
          Priority
          <select
            name="priority"
            value={filter.priority ?? ""}
            onChange={(e) => change({ priority: e.target.value === "" ? null : Number(e.target.value) })}
          >
            <option value="">Any</option>
            {[1, 2, 3, 4, 5].map((p) => (
              <option key={p} value={p}>
                P{p} or more urgent
              </option>
            ))}
          </select>
        </label>
        <label>
          Door
          <input name="door" size={10} value={filter.door ?? ""} onChange={(e) => change({ door: e.target.value.trim() || undefined })} />
        </label>
        <label>
          From
          <input
            name="from"
            type="datetime-local"
            value={from}
            onChange={(e) => {
              setFrom(e.target.value);
              change({ from: localTimeMs(e.target.value) });
            }}
          />
        </label>
        <label>
          To
          <input
            name="to"
            type="datetime-local"
            value={to}
            onChange={(e) => {
              setTo(e.target.value);
              change({ to: localTimeMs(e.target.value) });
            }}
          />
        </label>
      </form>
      <p className="hint" aria-live="polite">
        <span data-row-count={count}>{count.toLocaleString()}</span> of {buffer.size.toLocaleString()} rows · newest first ·
        arrows, Page Up/Down, Home and End move
        {props.onLoadOlder && (
          <>
            {" "}
            <button type="button" className="quiet" data-action="load-older" disabled={props.busy} onClick={props.onLoadOlder}>
              {props.busy ? "Loading…" : "Load older"}
            </button>
          </>
        )}
      </p>
      <div
        ref={scroller}
        className="event-scroller"
        role="listbox"
        aria-label="Events and alarms, newest first"
        tabIndex={0}
        aria-activedescendant={selectedIndex >= 0 ? `row-${selectedIndex}` : undefined}
        onKeyDown={onKey}
        onScroll={(e) => {
          setScrollTop(e.currentTarget.scrollTop);
          remember(e.currentTarget.scrollTop);
        }}
      >
        <div className="event-spacer" style={{ height: win.height }}>
          {rows.map((row, n) => {
            const index = win.first + n;
            return (
              <EventRow
                key={row.key}
                row={row}
                index={index}
                count={count}
                selected={row.key === selected}
                onSelect={setSelected}
                onOpen={props.onOpen}
              />
            );
          })}
        </div>
        {count === 0 && <p className="note empty">No event matches.</p>}
      </div>
    </section>
  );
}

const EventRow = memo(function EventRow(props: {
  row: ListRow;
  index: number;
  count: number;
  selected: boolean;
  onSelect: (key: string) => void;
  onOpen?: (row: ListRow) => void;
}) {
  const { row } = props;
  const look = row.priority !== null ? priorityLook(row.priority) : null;
  return (
    <div
      id={`row-${props.index}`}
      role="option"
      aria-selected={props.selected}
      aria-posinset={props.index + 1}
      aria-setsize={props.count}
      className={`event-row kind-${row.kind}${look ? ` priority-${look.level}` : ""}`}
      data-row-key={row.key}
      data-type={row.type}
      style={{ transform: `translateY(${props.index * ROW_HEIGHT}px)` }}
      onClick={() => props.onSelect(row.key)}
      onDoubleClick={() => props.onOpen?.(row)}
    >
      <span className="cell time">{TIME.format(row.time)}</span>
      <span className="cell type">
        <span aria-hidden="true">{TYPE_LOOK[row.type] ?? "·"}</span> {row.type.replace("-", " ")}
      </span>
      <span className="cell title">{row.title}</span>
      <span className="cell door">{row.door ?? "–"}</span>
      <span className="cell site">{row.site}</span>
      <span className="cell priority">
        {look ? (
          <>
            <span aria-hidden="true">{look.symbol}</span> {look.text}
            {row.state ? ` · ${row.state}` : ""}
          </>
        ) : (
          ""
        )}
      </span>
    </div>
  );
});

/** The list connected to the hub: the newest events and alarms, then live ones as they come. */
export function EventLog(props: { transport: Transport; sites: { id: string; name: string }[] }) {
  const { transport } = props;
  const { buffer, version, push, setFilter } = useRowBuffer();
  const siteIds = useSiteIds(props.sites);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let stop: (() => void) | undefined;
    let live = true;
    void (async () => {
      stop = await transport.listen((event) => {
        if (event.type !== "hub-change") return;
        const { kind, data } = event.change;
        if (kind === "event" && data && typeof data === "object") push([eventRow(data as HubEvent)]);
        else if (kind === "alarm" && data && typeof data === "object") push([alarmRow(data as Alarm)]);
      });
      if (!live) stop();
      try {
        const [events, alarms] = await Promise.all([
          perSite<HubEvent>(transport, siteIds, (site) => `/events?site=${site}&limit=1000`),
          perSite<Alarm>(transport, siteIds, (site) => `/alarms?site=${site}&limit=1000`),
        ]);
        push([...events.map(eventRow), ...alarms.map(alarmRow)]);
      } catch (e) {
        setError((e as { message?: string }).message ?? String(e));
      }
    })();
    return () => {
      live = false;
      stop?.();
    };
  }, [transport, push, siteIds]);

  const loadOlder = async () => {
    const oldest = buffer.oldest();
    setBusy(true);
    try {
      const to = oldest ? `&to=${encodeURIComponent(new Date(oldest.time).toISOString())}` : "";
      const events = await perSite<HubEvent>(transport, siteIds, (site) => `/events?site=${site}&limit=1000${to}`);
      push(events.map(eventRow));
      setError(null);
    } catch (e) {
      setError((e as { message?: string }).message ?? String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <EventList buffer={buffer} version={version} sites={props.sites} onFilter={setFilter} onLoadOlder={() => void loadOlder()} busy={busy} />
    </>
  );
}
