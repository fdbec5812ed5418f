// The event and alarm list's logic: one row shape for both, the filters, a bounded buffer that
// takes live rows, and the windowing math that keeps only visible rows in the DOM.
// Nothing here touches the DOM or the clock.

import type { Alarm, Event as HubEvent } from "./generated/hub";

/** One row of the list: an access event or an alarm. */
export interface ListRow {
  /** Unique in the list: `e:<site>:<id>` or `a:<id>`. */
  key: string;
  kind: "event" | "alarm";
  id: string;
  site: string;
  /** The event kind (access-granted…), or "alarm". */
  type: string;
  /** The source's event type or the alarm's title. */
  title: string;
  door: string | null;
  /** When it happened, ms since the epoch (NaN never: unparsable times count as 0). */
  time: number;
  /** Alarms only: 1 is the most urgent. */
  priority: number | null;
  /** Alarms only. */
  state: string | null;
  camera: string | null;
}

function ms(time: string): number {
  const t = Date.parse(time);
  return Number.isNaN(t) ? 0 : t;
}

export function eventRow(event: HubEvent): ListRow {
  // The hub names it `type`; tolerate `event_type` too.
  const type = event.type ?? (event as Partial<{ event_type: string }>).event_type ?? "";
  return {
    // An event's id is its source's own.
    key: `e:${event.site}:${event.source}:${event.id}`,
    kind: "event",
    id: event.id,
    site: event.site,
    type: event.kind,
    title: type,
    door: event.door,
    time: ms(event.time),
    priority: null,
    state: null,
    camera: event.camera,
  };
}

export function alarmRow(alarm: Alarm): ListRow {
  return {
    key: `a:${alarm.id}`,
    kind: "alarm",
    id: alarm.id,
    site: alarm.site,
    type: "alarm",
    title: alarm.title,
    door: alarm.door,
    time: ms(alarm.raised),
    priority: alarm.priority,
    state: alarm.state,
    camera: alarm.cameras[0] ?? null,
  };
}

export const EVENT_TYPES = ["access-granted", "access-denied", "door-state", "door-alarm", "sensor", "system", "alarm"] as const;

/** What the operator filters on; empty fields match everything. */
export interface RowFilter {
  site?: string;
  /** An event kind or "alarm". */
  type?: string;
  /** Alarms of this priority or more urgent (1…5); events drop out when set. */
  priority?: number | null;
  door?: string;
  /** ms since the epoch, inclusive. */
  from?: number | null;
  /** ms since the epoch, exclusive. */
  to?: number | null;
}

/** Whether `row` passes `filter`. */
export function matches(row: ListRow, filter: RowFilter): boolean {
  if (filter.site && row.site !== filter.site) return false;
  if (filter.type && row.type !== filter.type) return false;
  if (filter.door && row.door !== filter.door) return false;
  if (filter.priority != null && (row.priority === null || row.priority > filter.priority)) return false;
  if (filter.from != null && row.time < filter.from) return false;
  if (filter.to != null && row.time >= filter.to) return false;
  return true;
}

/** The rows that pass, in the order given. */
export function filterRows(rows: readonly ListRow[], filter: RowFilter): ListRow[] {
  return rows.filter((r) => matches(r, filter));
}

/** The value of an `<input type="datetime-local">` as ms since the epoch (local time), or null. */
export function localTimeMs(value: string): number | null {
  if (!value) return null;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? null : t;
}

/** Row order: by time, then key (so equal times still have one order). */
export function compareRows(a: ListRow, b: ListRow): number {
  return a.time - b.time || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/**
 * The newest `capacity` rows in time order, with the rows that pass the filter kept up to date
 * as rows arrive: a live row (newer than all others, the usual case) costs O(1), not a pass
 * over the whole buffer. Older rows (a first load, "load older") are put in place; a row whose
 * key is already here replaces it (an alarm acknowledged or closed). Beyond `capacity` the
 * oldest tenth goes at once, so a full buffer does not copy itself for every new row.
 */
export class RowBuffer {
  private rows: ListRow[] = [];
  private readonly byKey = new Map<string, ListRow>();
  private filter: RowFilter = {};
  private passing: ListRow[] = [];
  /** Bumped on every change, for React to notice. */
  version = 0;

  constructor(readonly capacity = 100_000) {}

  get size(): number {
    return this.rows.length;
  }

  /** How many rows pass the filter. */
  get shown(): number {
    return this.passing.length;
  }

  /** The `index`th passing row, newest first. */
  shownAt(index: number): ListRow | undefined {
    return this.passing[this.passing.length - 1 - index];
  }

  /** Where the row with `key` is among the passing rows, newest first; -1 when it is not. */
  shownIndexOf(key: string): number {
    const row = this.byKey.get(key);
    const at = row ? this.passing.lastIndexOf(row) : -1;
    return at < 0 ? -1 : this.passing.length - 1 - at;
  }

  /** The oldest row held, if any (for "load older"). */
  oldest(): ListRow | undefined {
    return this.rows[0];
  }

  get(key: string): ListRow | undefined {
    return this.byKey.get(key);
  }

  /** Adds or replaces rows, in any order. */
  push(rows: readonly ListRow[]): void {
    if (rows.length === 0) return;
    let refilter = false;
    for (const row of rows) {
      const old = this.byKey.get(row.key);
      this.byKey.set(row.key, row);
      if (old) {
        const at = this.indexOf(old);
        if (at >= 0 && compareRows(old, row) === 0) {
          this.rows[at] = row;
        } else {
          if (at >= 0) this.rows.splice(at, 1);
          this.rows.splice(this.insertionPoint(row), 0, row);
        }
        refilter = true;
        continue;
      }
      const last = this.rows[this.rows.length - 1];
      if (!last || compareRows(last, row) <= 0) {
        this.rows.push(row);
        if (!refilter && matches(row, this.filter)) this.passing.push(row);
      } else {
        this.rows.splice(this.insertionPoint(row), 0, row);
        refilter = true;
      }
    }
    if (this.rows.length > this.capacity) {
      const drop = Math.min(this.rows.length, this.rows.length - this.capacity + Math.floor(this.capacity / 10));
      for (const row of this.rows.slice(0, drop)) this.byKey.delete(row.key);
      this.rows = this.rows.slice(drop);
      refilter = true;
    }
    if (refilter) this.passing = this.rows.filter((r) => matches(r, this.filter));
    this.version++;
  }

  setFilter(filter: RowFilter): void {
    this.filter = filter;
    this.passing = this.rows.filter((r) => matches(r, filter));
    this.version++;
  }

  private insertionPoint(row: ListRow): number {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareRows(this.rows[mid] as ListRow, row) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOf(row: ListRow): number {
    const at = this.insertionPoint(row) - 1;
    return at >= 0 && this.rows[at]?.key === row.key ? at : this.rows.findIndex((r) => r.key === row.key);
  }
}

/** Which rows of a fixed-height list to put in the DOM. */
export interface ListWindow {
  /** First row index to render (inclusive). */
  first: number;
  /** One past the last row index to render. */
  last: number;
  /** The whole list's height in px (the scroller's content). */
  height: number;
}

/**
 * The rows that cover the viewport, plus `overscan` rows each side, for a list of `count` rows
 * of `rowHeight` px scrolled to `scrollTop` in a viewport `viewport` px tall.
 */
export function listWindow(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = 8): ListWindow {
  const height = count * rowHeight;
  if (count <= 0 || rowHeight <= 0) return { first: 0, last: 0, height: Math.max(0, height) };
  const top = Math.min(Math.max(0, scrollTop), Math.max(0, height - viewport));
  const firstVisible = Math.floor(top / rowHeight);
  const lastVisible = Math.ceil((top + Math.max(0, viewport)) / rowHeight);
  return {
    first: Math.max(0, firstVisible - overscan),
    last: Math.min(count, Math.max(lastVisible, firstVisible + 1) + overscan),
    height,
  };
}

/** The scrollTop that brings row `index` into view, or `scrollTop` itself when it already is. */
export function scrollToRow(index: number, scrollTop: number, viewport: number, rowHeight: number): number {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + viewport) return top + rowHeight - viewport;
  return scrollTop;
}

/** A deterministic generator of synthetic events and alarms (for the benchmark and tests). */
export function syntheticRows(count: number, seed = 1, startMs = Date.UTC(2025, 0, 1)): ListRow[] {
  let state = seed >>> 0 || 1;
  const next = () => {
    // xorshift32
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
  const kinds = EVENT_TYPES.slice(0, 6);
  const rows: ListRow[] = [];
  for (let i = 0; i < count; i++) {
    const site = next() < 0.7 ? "demo-hq" : "depot";
    const door = `door-${1 + Math.floor(next() * 12)}`;
    const time = startMs + i * 1000;
    if (next() < 0.05) {
      const priority = 1 + Math.floor(next() * 5);
      rows.push({
        key: `a:syn-${seed}-${i}`,
        kind: "alarm",
        id: `syn-${seed}-${i}`,
        site,
        type: "alarm",
        title: priority === 1 ? "Door forced open" : "Door held open",
        door,
        time,
        priority,
        state: "new",
        camera: null,
      });
    } else {
      const type = kinds[Math.floor(next() * kinds.length)] ?? "system";
      rows.push({
        key: `e:${site}:syn-${seed}-${i}`,
        kind: "event",
        id: `syn-${seed}-${i}`,
        site,
        type,
        title: type === "access-granted" ? "AccessGranted" : type === "access-denied" ? "AccessDenied" : "DoorPhysicalState",
        door,
        time,
        priority: null,
        state: null,
        camera: null,
      });
    }
  }
  return rows;
}
