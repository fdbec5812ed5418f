import { useCallback, useEffect, useState } from "react";
import type { WriteOutcome } from "./generated/app";
import type { EvidenceExport, ExportCheck, IncidentDetail } from "./generated/hub";
import { newId } from "./ids";
import { cameraList, checkVerdict, exportProgress, suggestedExport } from "./exports";
import type { Transport } from "./transport";
import { when } from "./time";

/** How often a running export is asked after, and a finished list. */
const RUNNING_POLL_MS = 1000;
const IDLE_POLL_MS = 15_000;

/** An incident's evidence exports: made from chosen cameras and a range (each camera's
 *  recorder signs its own files, kept on the incident as a note, the range locked), a progress
 *  bar while they run, and a check of the kept files against the signed manifests. */
export function Evidence(props: { transport: Transport; detail: IncidentDetail; write: boolean }) {
  const { transport, detail } = props;
  const [exports, setExports] = useState<EvidenceExport[]>([]);
  const [checks, setChecks] = useState<Map<string, ExportCheck>>(new Map());
  const [form, setForm] = useState(() => {
    const s = suggestedExport(detail, Date.now());
    return { cameras: s.cameras.join(", "), from: s.from, to: s.to, reason: detail.title };
  });
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<Map<string, string>>(new Map());
  const [saving, setSaving] = useState<Set<string>>(new Set());
  const path = `/incidents/${encodeURIComponent(detail.id)}/exports`;

  const load = useCallback(
    () =>
      transport
        .call<EvidenceExport[]>("hub_get", { path })
        .then(setExports)
        .catch(() => undefined),
    [transport, path],
  );
  const running = exports.some((e) => e.state === "running");
  useEffect(() => {
    void load();
    const timer = window.setInterval(() => void load(), running ? RUNNING_POLL_MS : IDLE_POLL_MS);
    return () => window.clearInterval(timer);
  }, [load, running]);

  const start = async (event: React.FormEvent) => {
    event.preventDefault();
    setProblem(null);
    const cameras = cameraList(form.cameras);
    const from = new Date(form.from);
    const to = new Date(form.to);
    if (cameras.length === 0 || Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
      setProblem("Name at least one camera, and when from and to.");
      return;
    }
    try {
      await transport.call<WriteOutcome>("hub_write", {
        method: "POST",
        path,
        body: { id: newId(), cameras, from: from.toISOString(), to: to.toISOString(), reason: form.reason.trim() },
      });
      await load();
    } catch (error) {
      setProblem((error as { message?: string }).message ?? String(error));
    }
  };
  /** In the app: the ZIP into the downloads folder (the browser downloads it from a link). */
  const save = async (id: string) => {
    setSaving((now) => new Set(now).add(id));
    try {
      setProblem(null);
      const where = await transport.call<string>("export_download", { id });
      setSaved((now) => new Map(now).set(id, where));
    } catch (error) {
      setProblem((error as { message?: string }).message ?? String(error));
    } finally {
      setSaving((now) => {
        const left = new Set(now);
        left.delete(id);
        return left;
      });
    }
  };
  const check = async (id: string) => {
    try {
      const answer = await transport.call<ExportCheck>("hub_get", { path: `/exports/${encodeURIComponent(id)}/check` });
      setChecks((now) => new Map(now).set(id, answer));
    } catch (error) {
      setProblem((error as { message?: string }).message ?? String(error));
    }
  };

  return (
    <section className="evidence" aria-labelledby="evidence-title">
      <h3 id="evidence-title">Evidence exports</h3>
      {props.write && (
        <form className="row export-form" aria-label="Export evidence" onSubmit={(e) => void start(e)}>
          <label>
            Cameras <input name="export-cameras" value={form.cameras} onChange={(e) => setForm({ ...form, cameras: e.target.value })} />
          </label>
          <label>
            From <input type="datetime-local" step="1" name="export-from" value={form.from} onChange={(e) => setForm({ ...form, from: e.target.value })} />
          </label>
          <label>
            To <input type="datetime-local" step="1" name="export-to" value={form.to} onChange={(e) => setForm({ ...form, to: e.target.value })} />
          </label>
          <label>
            Reason <input name="export-reason" value={form.reason} onChange={(e) => setForm({ ...form, reason: e.target.value })} />
          </label>
          <button type="submit" data-action="export" disabled={form.reason.trim() === ""}>
            Export evidence
          </button>
        </form>
      )}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      <ul className="exports">
        {exports.map((e) => {
          const verdict = checks.get(e.id);
          return (
            <li key={e.id} data-export-id={e.id} data-state={e.state} data-verified={verdict ? String(verdict.verified) : undefined}>
              <div>
                <strong>{e.cameras.join(", ")}</strong> {when(e.from)} – {when(e.to)} · {e.reason} · by {e.created_by}
              </div>
              <progress value={e.state === "done" ? e.cameras.length : e.done} max={e.cameras.length} aria-label="Export progress" />{" "}
              <span className={e.state === "failed" ? "error" : "note"}>{exportProgress(e)}</span>{" "}
              {e.state === "done" && (
                <>
                  <button type="button" className="quiet" data-action="check-export" onClick={() => void check(e.id)}>
                    Check
                  </button>{" "}
                  {transport.browser ? (
                    <a href={`/api/v1/exports/${encodeURIComponent(e.id)}/download`} download data-action="download-export">
                      Download (ZIP)
                    </a>
                  ) : (
                    <button type="button" className="quiet" data-action="download-export" disabled={saving.has(e.id)} onClick={() => void save(e.id)}>
                      {saving.has(e.id) ? "Saving…" : "Save as ZIP"}
                    </button>
                  )}
                </>
              )}
              {saved.has(e.id) && (
                <p className="note" role="status" data-saved-to={saved.get(e.id)}>
                  Saved to {saved.get(e.id)}
                </p>
              )}
              {verdict && (
                <div className={verdict.verified ? "verified" : "error"} role="status">
                  <p>{checkVerdict(verdict)}</p>
                  {verdict.manifests.map((m) => (
                    <details key={m.note}>
                      <summary>
                        Manifest signed by recorder {m.recorder} ({m.signature_valid ? "signature holds" : "signature does NOT hold"}) for{" "}
                        {m.requested_by}
                      </summary>
                      <ul>
                        {m.files.map((f) => (
                          <li key={f.name} data-intact={f.intact}>
                            {f.intact ? "✓" : "✗"} {f.name} ({f.bytes} bytes, SHA-256 {f.sha256.slice(0, 16)}…)
                          </li>
                        ))}
                      </ul>
                    </details>
                  ))}
                </div>
              )}
            </li>
          );
        })}
        {exports.length === 0 && <li className="empty">No export yet.</li>}
      </ul>
      <p className="note">
        Each export is the recorders' own signed files (MP4, manifest, signatures, README.txt), one folder per camera in its ZIP: they play in any
        player, and README.txt says how to check them with sha256sum and openssl, without Watchfloor. Downloads are audited.
      </p>
    </section>
  );
}
