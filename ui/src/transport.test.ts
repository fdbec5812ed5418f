import { describe, expect, it } from "vitest";
import { feedMessage, feedUrl, httpTransport, isAuthFailure, reconnectDelayMs, siteTree, subscribeMessage, type BrowserDeps } from "./transport";
import type { SiteDetail } from "./generated/hub";
import type { AppEvent, Startup } from "./generated/app";

describe("feed messages", () => {
  it("uses wss on an https page and ws on http", () => {
    expect(feedUrl({ protocol: "https:", host: "hub:8443" })).toBe("wss://hub:8443/api/v1/changes");
    expect(feedUrl({ protocol: "http:", host: "localhost:5173" })).toBe("ws://localhost:5173/api/v1/changes");
  });
  it("subscribes without a token, from the last seq when there is one", () => {
    expect(JSON.parse(subscribeMessage(null))).toEqual({ type: "subscribe" });
    expect(JSON.parse(subscribeMessage(42))).toEqual({ type: "subscribe", since: 42 });
  });
  it("maps a change to hub-change, as the app core does", () => {
    const text = JSON.stringify({ type: "change", seq: 7, at: 1735689600000, site: "hq", kind: "note", data: { id: "n1" } });
    expect(feedMessage(text)).toEqual({
      type: "change",
      seq: 7,
      events: [{ type: "hub-change", change: { seq: 7, at: 1735689600000, site: "hq", kind: "note", data: { id: "n1" } } }],
    });
  });
  it("adds cameras and layouts events for site and layout changes", () => {
    const site = feedMessage(JSON.stringify({ type: "change", seq: 1, at: 0, site: "hq", kind: "site", data: {} }));
    expect(site.type === "change" && site.events.map((e) => e.type)).toEqual(["hub-change", "cameras"]);
    const layout = feedMessage(JSON.stringify({ type: "change", seq: 2, at: 0, site: null, kind: "layout.removed", data: {} }));
    expect(layout.type === "change" && layout.events.map((e) => e.type)).toEqual(["hub-change", "layouts"]);
  });
  it("reads subscribed and error, ignores the rest", () => {
    expect(feedMessage('{"type":"subscribed","seq":12}')).toEqual({ type: "subscribed", seq: 12 });
    expect(feedMessage('{"type":"error","code":"unauthenticated","message":"sign in"}')).toEqual({
      type: "error",
      error: { code: "unauthenticated", message: "sign in" },
    });
    expect(feedMessage("not json")).toEqual({ type: "ignored" });
    expect(feedMessage('{"type":"change"}')).toEqual({ type: "ignored" });
    expect(isAuthFailure("unauthenticated")).toBe(true);
    expect(isAuthFailure("bad_request")).toBe(false);
  });
  it("backs off by doubling up to 30 s", () => {
    expect([1, 2, 3, 4, 10, 50].map((a) => reconnectDelayMs(a))).toEqual([500, 1000, 2000, 4000, 30_000, 30_000]);
    expect(reconnectDelayMs(1, 1)).toBe(625);
  });
});

/** A fake page: answers fetches from `routes`, records them, and hands out fake sockets. */
function fakePage(routes: Record<string, (init: RequestInit) => [number, unknown]>) {
  const requests: { url: string; init: RequestInit }[] = [];
  const sockets: FakeSocket[] = [];
  const timers: (() => void)[] = [];
  class FakeSocket {
    sent: string[] = [];
    closed = false;
    onopen: (() => void) | null = null;
    onmessage: ((m: { data: string }) => void) | null = null;
    onclose: ((e: { reason: string }) => void) | null = null;
    constructor(readonly url: string) {
      sockets.push(this);
    }
    send(text: string) {
      this.sent.push(text);
    }
    close() {
      this.closed = true;
    }
    receive(value: unknown) {
      this.onmessage?.({ data: JSON.stringify(value) });
    }
  }
  const deps: BrowserDeps = {
    fetch: async (url, init) => {
      requests.push({ url, init });
      const route = routes[`${init.method} ${url}`];
      const [status, body] = route ? route(init) : [404, { code: "not_found", message: "no route" }];
      return new Response(body === null ? null : JSON.stringify(body), { status, statusText: String(status) });
    },
    WebSocket: FakeSocket as unknown as BrowserDeps["WebSocket"],
    location: { protocol: "https:", host: "hub:8443", origin: "https://hub:8443" },
    now: () => 1000,
    setTimeout: (f) => timers.push(f),
    clearTimeout: () => undefined,
  };
  return { deps, requests, sockets, timers };
}

const operator = { user_id: "u1", username: "mgr", display_name: "Manager", grants: [{ site: "hq", role: "manager" }] };

describe("browser transport", () => {
  it("starts signed out on 401 and does not open the feed", async () => {
    const page = fakePage({ "GET /api/v1/me": () => [401, { code: "unauthenticated", message: "sign in" }] });
    const t = httpTransport(page.deps);
    const startup = await t.call<Startup>("startup");
    expect(startup).toMatchObject({ operator: null, last_sign_in: null, problems: [], connection: { link: "signed-out" } });
    expect(page.sockets).toHaveLength(0);
    expect(t.hasWalls).toBe(false);
  });
  it("signs in with a cookie, never a token, and sends the CSRF header", async () => {
    const page = fakePage({
      "POST /api/v1/auth/browser-login": () => [200, { expires: "2099-01-01T00:00:00Z", user: operator }],
    });
    const t = httpTransport(page.deps);
    const events: AppEvent[] = [];
    await t.listen((e) => events.push(e));
    const who = await t.call("sign_in", { request: { hub: "ignored", username: "mgr", password: "pw", remember: false, ca_file: null } });
    expect(who).toEqual(operator);
    const login = page.requests[0]!;
    expect(JSON.parse(String(login.init.body))).toEqual({ username: "mgr", password: "pw" });
    expect(login.init.credentials).toBe("same-origin");
    expect(login.init.headers).toMatchObject({ "X-Watchfloor": "1", "Content-Type": "application/json" });
    // The feed opens, subscribes without a token, and goes online.
    const socket = page.sockets[0]!;
    expect(socket.url).toBe("wss://hub:8443/api/v1/changes");
    socket.onopen?.();
    expect(JSON.parse(socket.sent[0]!)).toEqual({ type: "subscribe" });
    socket.receive({ type: "subscribed", seq: 10 });
    socket.receive({ type: "change", seq: 11, at: "t", site: "hq", kind: "incident", data: { id: "i1" } });
    expect(events.map((e) => (e.type === "connection" ? e.state.link : e.type))).toEqual(["connecting", "online", "hub-change"]);
    // Lost: reconnects after a delay, from the last seq seen.
    socket.onclose?.({ reason: "" });
    expect(events.at(-1)).toMatchObject({ type: "connection", state: { link: "reconnecting", attempt: 1 } });
    page.timers.shift()?.();
    const again = page.sockets[1]!;
    again.onopen?.();
    expect(JSON.parse(again.sent[0]!)).toEqual({ type: "subscribe", since: 11 });
    // The session ended: signed out, no more reconnects.
    again.receive({ type: "error", code: "unauthenticated", message: "session expired" });
    again.onclose?.({ reason: "" });
    expect(events.at(-1)).toMatchObject({ type: "connection", state: { link: "signed-out", detail: "session expired" } });
    expect(page.timers).toHaveLength(0);
  });
  it("passes the hub's {code, message} on, and answers writes as delivered", async () => {
    const page = fakePage({
      "POST /api/v1/incidents": () => [403, { code: "forbidden", message: "not on this site" }],
      "POST /api/v1/incidents/i1/notes": () => [200, { id: "n1" }],
      "GET /api/v1/events?limit=5": () => [200, []],
    });
    const t = httpTransport(page.deps);
    await expect(t.call("hub_write", { method: "POST", path: "/incidents", body: {} })).rejects.toEqual({
      code: "hub_forbidden",
      message: "not on this site",
    });
    expect(await t.call("hub_write", { method: "POST", path: "/incidents/i1/notes", body: { id: "n1", text: "x" } })).toEqual({
      status: "delivered",
      value: { id: "n1" },
    });
    expect(await t.call("hub_get", { path: "/events?limit=5" })).toEqual([]);
    expect(await t.call("floor_plan", { site: "hq", floor: "g" })).toBe("/api/v1/sites/hq/floors/g/plan");
    expect(await t.call("outbox")).toEqual({ items: [] });
    expect(await t.call("walls")).toEqual([]);
    await expect(t.call("wall_assign", { wall: "wall-1", tile: 0, camera: "c" })).rejects.toMatchObject({ code: "no_wall" });
    await expect(t.call("incident_snapshot", {})).rejects.toMatchObject({ code: "no_wall" });
  });
  it("builds the camera tree from the sites", async () => {
    const detail: SiteDetail = {
      id: "hq",
      name: "HQ",
      floors: [{ id: "g", name: "Ground", width: 10, height: 10, plan_url: "" }],
      zones: [],
      cameras: [{ id: "c1", floor: "g", name: "Lobby", main_url: "rtsp://sim/cam", sub_url: "", credential_ref: null, recorder: null, position: [0, 0], direction_deg: 0, fov_deg: 60, doors: ["d1"] }],
      doors: [],
    };
    const page = fakePage({
      "GET /api/v1/me": () => [200, operator],
      "GET /api/v1/sites": () => [200, [{ id: "hq", name: "HQ" }]],
      "GET /api/v1/sites/hq": () => [200, detail],
    });
    const t = httpTransport(page.deps);
    // Signed out: no tree, and no request the hub would refuse.
    expect(await t.call("cameras")).toEqual([]);
    expect(page.requests).toHaveLength(0);
    expect(await t.call<Startup>("startup")).toMatchObject({ operator, connection: { link: "connecting", username: "mgr" } });
    expect(await t.call("cameras")).toEqual([siteTree(detail)]);
    expect(siteTree(detail).floors[0]?.cameras[0]).toMatchObject({ id: "c1", main_url: "rtsp://sim/cam", doors: ["d1"] });
  });
});
