import { ErrorNote } from "./ErrorNote";
import { clock, when } from "./time";
import { useState } from "react";
import { alarmStateText, openAlarms, priorityLook, repeatText } from "./alarms";
import { newId } from "./ids";
import { can } from "./rights";
import type { Transport } from "./transport";
import type { Alarm, Caller } from "./generated/hub";
import type { AppError, WriteOutcome } from "./generated/app";

/** Writes an alarm action: the updated alarm when the hub has it, or "queued" when the app's
 *  outbox holds it until the hub is back. */
export async function alarmAction(
  transport: Transport,
  alarm: Alarm,
  action: "acknowledge" | "forward" | "close",
  comment: string,
  to?: string,
): Promise<{ alarm: Alarm } | { queued: string } | { delivered: true }> {
  const body: Record<string, unknown> = { request_id: newId(), comment };
  if (to !== undefined) body.to = to;
  const result = await transport.call<WriteOutcome>("hub_write", {
    method: "POST",
    path: `/alarms/${encodeURIComponent(alarm.id)}/${action}`,
    body,
  });
  // Without the hub's answer (taken by an earlier delivery), the live feed brings the alarm.
  if (result.status === "delivered") return { alarm: result.value as Alarm };
  return result.status === "queued" ? { queued: result.outbox_id } : { delivered: true };
}

/** Open alarms, most urgent first. Select one to read its procedure and act on it. */
export function Alarms(props: {
  transport: Transport;
  operator: Caller;
  alarms: Alarm[];
  /** Actions waiting in the outbox, by alarm id. */
  pending: Map<string, string>;
  onChanged: (alarm: Alarm) => void;
  onQueued: (alarmId: string, action: string) => void;
  onCreateIncident: (alarm: Alarm) => void;
  /** Replays the alarm's cameras from ten seconds before it: on the walls in the app, in the
   *  Video tab in a browser. */
  onReplay?: (alarm: Alarm) => Promise<void>;
  doorName?: (site: string, door: string) => string;
  /** The alarm shown expanded (its procedure and actions). */
  expanded: string | null;
  onExpand: (id: string | null) => void;
}) {
  const shown = openAlarms(props.alarms);
  const open = props.expanded;
  const setOpen = props.onExpand;
  return (
    <section className="panel alarms" aria-labelledby="alarms-title">
      <h2 id="alarms-title">Open alarms ({shown.length})</h2>
      <ul className="alarm-list" aria-label="Open alarms, most urgent first">
        {shown.map((alarm) => (
          <AlarmRow
            key={alarm.id}
            {...props}
            alarm={alarm}
            expanded={open === alarm.id}
            onToggle={() => setOpen(open === alarm.id ? null : alarm.id)}
          />
        ))}
        {shown.length === 0 && <li className="empty">No open alarm.</li>}
      </ul>
    </section>
  );
}

function AlarmRow(props: {
  transport: Transport;
  operator: Caller;
  alarm: Alarm;
  pending: Map<string, string>;
  expanded: boolean;
  onToggle: () => void;
  onChanged: (alarm: Alarm) => void;
  onQueued: (alarmId: string, action: string) => void;
  onCreateIncident: (alarm: Alarm) => void;
  onReplay?: (alarm: Alarm) => Promise<void>;
  doorName?: (site: string, door: string) => string;
}) {
  const { alarm, operator } = props;
  const [comment, setComment] = useState("");
  const [forwardTo, setForwardTo] = useState("");
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState(false);
  const look = priorityLook(alarm.priority);
  const pending = props.pending.get(alarm.id);
  const door = alarm.door ? (props.doorName?.(alarm.site, alarm.door) ?? alarm.door) : null;

  const act = async (action: "acknowledge" | "forward" | "close", to?: string) => {
    setBusy(true);
    setError(null);
    try {
      const result = await alarmAction(props.transport, alarm, action, comment, to);
      if ("alarm" in result) props.onChanged(result.alarm);
      else if ("queued" in result) props.onQueued(alarm.id, action);
      setComment("");
      if (action === "forward") setForwardTo("");
    } catch (e) {
      setError(e as AppError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <li
      className={`alarm priority-${look.level} state-${alarm.state}`}
      data-alarm-id={alarm.id}
      data-state={alarm.state}
      data-priority={alarm.priority}
      data-pending={pending ?? undefined}
    >
      <button type="button" className="alarm-summary" aria-expanded={props.expanded} onClick={props.onToggle}>
        <span className="alarm-priority">
          <span aria-hidden="true">{look.symbol}</span> {look.text}
        </span>
        <span className="alarm-title">
          {alarm.title}
          {alarm.repeats > 0 && (
            <span className="alarm-repeats" data-repeats={alarm.repeats} title={alarm.last_repeat ? `last at ${when(alarm.last_repeat)}` : undefined}>
              {" · "}
              {repeatText(alarm)}
            </span>
          )}
        </span>
        <span className="alarm-door">{door ? `Door ${door}` : ""}</span>
        <span className="alarm-time">{when(alarm.raised)}</span>
        <span className="alarm-state">
          {alarm.state === "new" ? "● " : "○ "}
          {alarmStateText(alarm)}
          {pending ? ` · ${pending} waiting for the hub` : ""}
        </span>
      </button>
      {props.expanded && (
        <div className="alarm-detail">
          <p className="procedure">
            <strong>Procedure:</strong> {alarm.procedure || "none given"}
          </p>
          <p className="note">
            Site {alarm.site}
            {alarm.cameras.length > 0 ? ` · cameras ${alarm.cameras.join(", ")}` : ""}
            {alarm.acknowledge_comment ? ` · comment: ${alarm.acknowledge_comment}` : ""}
          </p>
          <div className="row">
            <input name="comment" aria-label="Comment" placeholder="Comment" value={comment} onChange={(e) => setComment(e.target.value)} />
            {can(operator, alarm.site, "acknowledge-alarm") && alarm.state === "new" && (
              <button type="button" data-action="acknowledge" disabled={busy || pending !== undefined} onClick={() => void act("acknowledge")}>
                Acknowledge
              </button>
            )}
            {can(operator, alarm.site, "close-alarm") && (
              <button type="button" data-action="close" disabled={busy || pending !== undefined} onClick={() => void act("close")}>
                Close
              </button>
            )}
          </div>
          {can(operator, alarm.site, "forward-alarm") && (
            <form
              className="row"
              onSubmit={(e) => {
                e.preventDefault();
                if (forwardTo.trim()) void act("forward", forwardTo.trim());
              }}
            >
              <input name="forward-to" aria-label="Forward to (user name)" placeholder="User name" value={forwardTo} onChange={(e) => setForwardTo(e.target.value)} />
              <button type="submit" data-action="forward" disabled={busy || forwardTo.trim() === ""}>
                Forward
              </button>
            </form>
          )}
          {can(operator, alarm.site, "write-incident") && (
            <div className="row">
              <button type="button" data-action="incident" disabled={busy} onClick={() => props.onCreateIncident(alarm)}>
                Create incident
              </button>
            </div>
          )}
          {props.onReplay && alarm.cameras.length > 0 && (
            <div className="row">
              <button
                type="button"
                data-action="replay-alarm"
                disabled={busy}
                onClick={() => {
                  setError(null);
                  props.onReplay?.(alarm).catch((e: unknown) => setError(e as AppError));
                }}
              >
                Replay from 10 s before
              </button>
            </div>
          )}
          <ErrorNote error={error} />
        </div>
      )}
    </li>
  );
}

/** A priority-1 alarm nobody has acknowledged: in sight whatever view is open. */
export function AlarmBanner(props: { alarm: Alarm; onShow: () => void; onAcknowledge?: () => void }) {
  const { alarm } = props;
  return (
    <div className="alarm-banner" role="alert" data-alarm-id={alarm.id}>
      <span className="alarm-banner-symbol" aria-hidden="true">
        ⬣
      </span>
      <div>
        <strong className="alarm-banner-title">
          P1 ALARM: {alarm.title}
          {alarm.door ? ` · door ${alarm.door}` : ""} · {clock(alarm.raised)}
        </strong>
        <p className="alarm-banner-procedure">{alarm.procedure}</p>
      </div>
      <div className="row">
        <button type="button" onClick={props.onShow}>
          Show alarm
        </button>
        {props.onAcknowledge && (
          <button type="button" data-action="banner-acknowledge" onClick={props.onAcknowledge}>
            Acknowledge
          </button>
        )}
      </div>
    </div>
  );
}
