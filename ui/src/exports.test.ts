import { describe, expect, it } from "vitest";
import { cameraList, checkVerdict, exportProgress, localInput, suggestedExport } from "./exports";
import type { EvidenceExport, ExportCheck, IncidentDetail } from "./generated/hub";

const exported = (fields: Partial<EvidenceExport>): EvidenceExport => ({
  id: "e1",
  incident: "i1",
  site: "hq",
  cameras: ["cam01", "cam02"],
  from: "2026-11-28T08:00:00Z",
  to: "2026-11-28T08:01:00Z",
  reason: "Forced door",
  state: "running",
  done: 1,
  notes: ["e1-cam01"],
  created_by: "supervisor",
  created: "2026-11-28T08:02:00Z",
  ...fields,
});

describe("exports", () => {
  it("suggests the incident's cameras and the minutes around its opening, never the future", () => {
    const created = Date.parse("2026-11-28T08:00:00Z");
    const detail = {
      created: "2026-11-28T08:00:00Z",
      links: [
        { kind: "camera", id: "cam01" },
        { kind: "alarm", id: "a1" },
      ],
    } as unknown as IncidentDetail;
    const suggested = suggestedExport(detail, created + 30_000);
    expect(suggested.cameras).toEqual(["cam01"]);
    expect(suggested.from).toBe(localInput(created - 300_000));
    expect(suggested.to).toBe(localInput(created + 30_000));
  });

  it("reads cameras as typed", () => {
    expect(cameraList(" cam01, cam02  cam01,")).toEqual(["cam01", "cam02"]);
  });

  it("says how far an export has come and what a check found", () => {
    expect(exportProgress(exported({}))).toBe("Exporting: 1 of 2 cameras");
    expect(exportProgress(exported({ state: "done", done: 2 }))).toContain("Done: 2 cameras");
    expect(exportProgress(exported({ state: "failed", error: "recorder away" }))).toBe("Failed after 1 of 2: recorder away");
    const check: ExportCheck = {
      export: "e1",
      verified: false,
      manifests: [
        {
          note: "e1-cam01",
          recorder: "rec-1",
          recorder_key: "ab",
          signature_valid: true,
          requested_by: "u-supervisor",
          reason: "Forced door",
          from: "",
          to: "",
          files: [
            { name: "cam01-main-1.mp4", camera: "cam01", bytes: 10, sha256: "x", intact: false },
            { name: "cam01-main-2.mp4", camera: "cam01", bytes: 10, sha256: "y", intact: true },
          ],
        },
      ],
    };
    expect(checkVerdict(check)).toBe("Does NOT verify: cam01-main-1.mp4 is changed or missing");
    expect(checkVerdict({ ...check, verified: true })).toMatch(/^Verified/);
  });
});
