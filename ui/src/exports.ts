// Evidence exports as the console shows them: the range an incident suggests, and how far an
// export has come, in words.

import type { EvidenceExport, ExportCheck, IncidentDetail } from "./generated/hub";

/** The cameras an incident links, and a range around when it was opened: from five minutes
 *  before to one minute after (at most now), as `datetime-local` values. */
export function suggestedExport(detail: IncidentDetail, nowMs: number): { cameras: string[]; from: string; to: string } {
  const opened = Date.parse(detail.created);
  const at = Number.isFinite(opened) ? opened : nowMs;
  return {
    cameras: detail.links.filter((l) => l.kind === "camera").map((l) => l.id),
    from: localInput(at - 5 * 60_000),
    to: localInput(Math.min(at + 60_000, nowMs)),
  };
}

/** A time as a `datetime-local` input holds it (local time, to the second). */
export function localInput(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** Cameras as typed: ids separated by commas or spaces, each once. */
export function cameraList(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

/** Where an export stands, in words. */
export function exportProgress(e: EvidenceExport): string {
  const total = e.cameras.length;
  if (e.state === "done") return `Done: ${total} camera${total === 1 ? "" : "s"} exported, signed and kept on the incident`;
  if (e.state === "failed") return `Failed after ${e.done} of ${total}: ${e.error ?? "no reason given"}`;
  return `Exporting: ${e.done} of ${total} camera${total === 1 ? "" : "s"}`;
}

/** A check's verdict, in words, naming what does not hold. */
export function checkVerdict(check: ExportCheck): string {
  if (check.verified) return "Verified: every file matches the manifest its recorder signed";
  const problems: string[] = [];
  for (const m of check.manifests) {
    if (!m.signature_valid) problems.push(`the signature of recorder ${m.recorder}'s manifest does not hold`);
    for (const f of m.files) if (!f.intact) problems.push(`${f.name} is changed or missing`);
  }
  return `Does NOT verify: ${problems.length ? problems.join("; ") : "the export is not complete"}`;
}
