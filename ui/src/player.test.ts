import { describe, expect, it } from "vitest";
import { cannotPlay, captureAt, liveJump, livePath, liveRate, mediaPath, mimeOf, timelinePath } from "./player";

describe("the recording player", () => {
  it("names the MSE type of each codec and says in words what this browser cannot play", () => {
    expect(mimeOf("h264")).toContain("avc1");
    expect(mimeOf("jpeg")).toBeNull();
    const onlyH264 = (mime: string) => mime.includes("avc1");
    expect(cannotPlay("h264", onlyH264)).toBeNull();
    expect(cannotPlay("h265", onlyH264)).toMatch(/cannot decode .*H\.265.*desktop app/);
    expect(cannotPlay("jpeg", () => true)).toMatch(/Motion JPEG/);
  });

  it("asks the hub for a camera's recording from an instant", () => {
    expect(mediaPath("hq", "cam 1", "sub", Date.UTC(2026, 10, 28, 4, 0, 0, 250))).toBe(
      "/api/v1/sites/hq/cameras/cam%201/recording/sub/media?from=2026-11-28T04%3A00%3A00.250Z",
    );
    expect(timelinePath("hq", "cam 1", "main", Date.UTC(2026, 10, 28, 4), Date.UTC(2026, 10, 28, 5))).toBe(
      "/api/v1/sites/hq/cameras/cam%201/recording/main/timeline?from=2026-11-28T04%3A00%3A00.000Z&to=2026-11-28T05%3A00%3A00.000Z",
    );
    expect(livePath("hq", "cam 1", "main")).toBe("/api/v1/sites/hq/cameras/cam%201/live/main");
  });

  it("keeps a live view near the newest frame it has, jumping only when far behind", () => {
    // Within a second and a half of the newest frame: it plays on where it is.
    expect(liveJump(10, 10.2)).toBeNull();
    expect(liveJump(10, 11.5)).toBeNull();
    // Further behind (a tab in the background): to just before the newest frame.
    expect(liveJump(10, 14)).toBeCloseTo(13.9);
    expect(liveJump(0, 1.6)).toBeCloseTo(1.5);
    // Behind by more than half a second: a little faster until it is not.
    expect(liveRate(10, 10.3)).toBe(1);
    expect(liveRate(10, 10.8)).toBeGreaterThan(1);
  });

  it("turns a media time into the capture time of the answer it belongs to", () => {
    const pieces = [
      { mediaStart: 0, captureStart: 1_000_000 },
      { mediaStart: 10, captureStart: 5_000_000 },
    ];
    expect(captureAt(pieces, 2.5)).toBe(1_002_500);
    expect(captureAt(pieces, 10)).toBe(5_000_000);
    expect(captureAt(pieces, 12)).toBe(5_002_000);
    expect(captureAt([], 1)).toBeNull();
  });
});
