import { describe, expect, it } from "vitest";
import { bannerAlarm, mergeAlarms, openAlarms, pendingAlarmActions, priorityLook, repeatText, upsertAlarm } from "./alarms";
import { can, roleOn } from "./rights";
import { outboxSummary } from "./outbox";
import { newId } from "./ids";
import type { Alarm, Caller } from "./generated/hub";
import type { OutboxItem } from "./generated/app";

const alarm = (id: string, priority: number, raised: string, state: Alarm["state"] = "new"): Alarm => ({
  id,
  site: "hq",
  rule: "r",
  event: "e",
  door: null,
  title: id,
  priority,
  procedure: "",
  cameras: [],
  state,
  raised,
  repeats: 0,
  last_repeat: null,
  acknowledged_by: null,
  acknowledged: null,
  acknowledge_comment: null,
  forwarded_to: null,
  closed_by: null,
  closed: null,
  close_comment: null,
});

describe("alarms", () => {
  const list = [
    alarm("p3", 3, "2025-01-01T00:00:00Z"),
    alarm("p1-old", 1, "2025-01-01T00:00:00Z"),
    alarm("p1-acked", 1, "2025-01-01T00:05:00Z", "acknowledged"),
    alarm("p1-new", 1, "2025-01-01T00:03:00Z"),
    alarm("closed", 1, "2025-01-01T00:09:00Z", "closed"),
  ];
  it("lists open alarms, most urgent first, unacknowledged before acknowledged, newest first", () => {
    expect(openAlarms(list).map((a) => a.id)).toEqual(["p1-new", "p1-old", "p1-acked", "p3"]);
  });
  it("replaces by id", () => {
    const next = upsertAlarm(list, { ...list[0]!, state: "closed" });
    expect(next).toHaveLength(5);
    expect(openAlarms(next).map((a) => a.id)).not.toContain("p3");
    expect(upsertAlarm(list, alarm("x", 2, "2025-01-01T00:00:00Z"))).toHaveLength(6);
    expect(mergeAlarms([list[0]!], [{ ...list[0]!, state: "closed" }])[0]?.state).toBe("closed");
  });
  it("raises the banner for the newest unacknowledged priority-1 alarm only", () => {
    expect(bannerAlarm(list)?.id).toBe("p1-new");
    expect(bannerAlarm(list.filter((a) => a.id !== "p1-new" && a.id !== "p1-old"))).toBeNull();
  });
  it("tells priority by symbol and words", () => {
    expect(priorityLook(1)).toMatchObject({ text: "P1 critical", level: "critical" });
    expect(priorityLook(5).text).toBe("P5 low");
    expect(new Set([1, 2, 3, 4].map((p) => priorityLook(p).symbol)).size).toBe(4);
  });
});

describe("rights", () => {
  const op = (grants: Caller["grants"]): Caller => ({ user_id: "u", username: "u", display_name: "U", grants });
  it("follows the hub's matrix per role", () => {
    const guard = op([{ site: "hq", role: "guard" }]);
    expect(can(guard, "hq", "acknowledge-alarm")).toBe(true);
    expect(can(guard, "hq", "door-unlock")).toBe(true);
    expect(can(guard, "hq", "close-alarm")).toBe(false);
    expect(can(guard, "hq", "lockdown")).toBe(false);
    const supervisor = op([{ site: "hq", role: "supervisor" }]);
    expect(can(supervisor, "hq", "lockdown")).toBe(true);
    expect(can(supervisor, "hq", "close-alarm")).toBe(true);
    expect(can(supervisor, "hq", "delete-incident")).toBe(false);
    const manager = op([{ site: "hq", role: "manager" }]);
    expect(can(manager, "hq", "door-unlock")).toBe(false);
    expect(can(manager, "hq", "lockdown")).toBe(false);
    expect(can(manager, "hq", "manage-incident")).toBe(true);
    expect(can(manager, "hq", "close-alarm")).toBe(true);
    const it_ = op([{ site: "hq", role: "it-admin" }]);
    expect(can(it_, "hq", "acknowledge-alarm")).toBe(false);
    expect(can(it_, "hq", "write-incident")).toBe(false);
  });
  it("uses the site's own grant before `*`, and nothing for other sites", () => {
    const o = op([
      { site: "*", role: "manager" },
      { site: "hq", role: "guard" },
    ]);
    expect(roleOn(o, "hq")).toBe("guard");
    expect(roleOn(o, "depot")).toBe("manager");
    expect(can(op([{ site: "hq", role: "supervisor" }]), "depot", "acknowledge-alarm")).toBe(false);
    expect(can(null, "hq", "acknowledge-alarm")).toBe(false);
  });
  it("gives a role it does not know (a newer hub's) no rights", () => {
    for (const role of ["auditor", "constructor", "toString"]) {
      expect(can(op([{ site: "hq", role: role as Caller["grants"][number]["role"] }]), "hq", "view")).toBe(false);
    }
  });
});

describe("outbox", () => {
  const item = (id: string, failed = false): OutboxItem => ({
    id,
    hub: "https://hub", username: "guard", created_ms: 0,
    method: "POST",
    path: "/incidents",
    summary: "note",
    attempts: 1,
    last_error: failed ? "forbidden" : null,
    failed,
  });
  it("says all delivered when empty", () => {
    expect(outboxSummary(null)).toMatchObject({ count: 0, text: "all delivered", symbol: "✓" });
    expect(outboxSummary({ items: [] }).text).toBe("all delivered");
  });
  it("counts waiting and failed items", () => {
    expect(outboxSummary({ items: [item("a"), item("b")] })).toMatchObject({ count: 2, waiting: 2, text: "2 waiting for the hub" });
    const s = outboxSummary({ items: [item("a"), item("b", true)] });
    expect(s).toMatchObject({ count: 2, waiting: 1, text: "1 waiting for the hub · 1 failed", symbol: "✖" });
    expect(s.failed.map((i) => i.id)).toEqual(["b"]);
  });
});

describe("ids", () => {
  it("makes v4 UUIDs without randomUUID", () => {
    const id = newId({ getRandomValues: <T extends ArrayBufferView | null>(a: T) => a });
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newId({ getRandomValues: (a) => a, randomUUID: () => "x" })).toBe("x");
  });
});

describe("pending alarm actions", () => {
  it("come from the outbox, failed ones left out", () => {
    const item = (path: string, failed = false) => ({
      id: path,
      hub: "https://hub", username: "guard", created_ms: 1,
      method: "POST",
      path,
      summary: "",
      attempts: 0,
      last_error: null,
      failed,
    });
    const pending = pendingAlarmActions({
      items: [item("/alarms/a%201/acknowledge"), item("/alarms/a2/close", true), item("/incidents/i1/notes")],
    });
    expect([...pending]).toEqual([["a 1", "acknowledge"]]);
    expect(pendingAlarmActions(null).size).toBe(0);
  });
});

describe("repeatText", () => {
  it("says how often a door's alarm fired again while open, and nothing when it did not", () => {
    const once = alarm("a", 1, "2025-01-01T00:00:00Z");
    expect(repeatText(once)).toBe("");
    expect(repeatText({ ...once, repeats: 1 })).toBe("fired 1 more time");
    expect(repeatText({ ...once, repeats: 4 })).toBe("fired 4 more times");
  });
});
