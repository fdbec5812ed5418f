// Open alarms as the console shows them: most urgent first, live updates by id, and the banner
// that a priority-1 alarm raises until someone acknowledges it.

import type { Alarm } from "./generated/hub";
import type { OutboxView } from "./generated/app";

/** Alarms still needing someone: new or acknowledged, not closed. */
export function isOpen(alarm: Alarm): boolean {
  return alarm.state === "new" || alarm.state === "acknowledged";
}

/** Open alarms, most urgent first; unacknowledged before acknowledged; then newest first. */
export function openAlarms(alarms: readonly Alarm[]): Alarm[] {
  return alarms
    .filter(isOpen)
    .sort(
      (a, b) =>
        a.priority - b.priority ||
        Number(a.state !== "new") - Number(b.state !== "new") ||
        Date.parse(b.raised) - Date.parse(a.raised) ||
        a.id.localeCompare(b.id),
    );
}

/** `alarms` with `alarm` added or replaced by id. */
export function upsertAlarm(alarms: readonly Alarm[], alarm: Alarm): Alarm[] {
  const at = alarms.findIndex((a) => a.id === alarm.id);
  if (at < 0) return [...alarms, alarm];
  const next = [...alarms];
  next[at] = alarm;
  return next;
}

/** Several lists merged by id, later lists winning. */
export function mergeAlarms(...lists: readonly (readonly Alarm[])[]): Alarm[] {
  const byId = new Map<string, Alarm>();
  for (const list of lists) for (const a of list) byId.set(a.id, a);
  return [...byId.values()];
}

/** The alarm the banner shows: the newest unacknowledged priority-1 alarm, if any. */
export function bannerAlarm(alarms: readonly Alarm[]): Alarm | null {
  let best: Alarm | null = null;
  for (const a of alarms) {
    if (a.state !== "new" || a.priority !== 1) continue;
    if (!best || Date.parse(a.raised) > Date.parse(best.raised)) best = a;
  }
  return best;
}

/** Priority in symbol and words, never by colour alone. */
export function priorityLook(priority: number): { symbol: string; text: string; level: "critical" | "high" | "medium" | "low" } {
  if (priority <= 1) return { symbol: "⬣", text: "P1 critical", level: "critical" };
  if (priority === 2) return { symbol: "▲", text: "P2 high", level: "high" };
  if (priority === 3) return { symbol: "◆", text: "P3 medium", level: "medium" };
  return { symbol: "●", text: `P${priority} low`, level: "low" };
}

export function alarmStateText(alarm: Alarm): string {
  switch (alarm.state) {
    case "new":
      return "New";
    case "acknowledged":
      return `Acknowledged${alarm.acknowledged_by ? ` by ${alarm.acknowledged_by}` : ""}${alarm.forwarded_to ? ` · forwarded to ${alarm.forwarded_to}` : ""}`;
    case "closed":
      return "Closed";
  }
}

/** How often its rule fired again for the same door while it was open ("" when it did not). */
export function repeatText(alarm: Alarm): string {
  if (alarm.repeats <= 0) return "";
  return `fired ${alarm.repeats} more ${alarm.repeats === 1 ? "time" : "times"}`;
}

/** Alarm actions still waiting in the outbox, by alarm id (the outbox is the truth: an alarm
 *  change heard meanwhile does not mean this operator's action arrived). */
export function pendingAlarmActions(outbox: OutboxView | null): Map<string, string> {
  const pending = new Map<string, string>();
  for (const item of outbox?.items ?? []) {
    if (item.failed || item.method !== "POST") continue;
    const match = /^\/alarms\/([^/]+)\/(acknowledge|forward|close)$/.exec(item.path);
    const [, alarm, verb] = match ?? [];
    if (alarm && verb) pending.set(decodeURIComponent(alarm), verb);
  }
  return pending;
}
