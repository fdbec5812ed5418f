import { useEffect, useState } from "react";
import { outboxSummary } from "./outbox";
import { connectionLabel } from "./status";
import type { Caller } from "./generated/hub";
import type { ConnectionState, OutboxView } from "./generated/app";

/** The connection to the hub, always in sight, with who is signed in and what still waits
 *  in the outbox for the hub. */
export function StatusBar(props: {
  connection: ConnectionState;
  operator: Caller | null;
  onSignOut: () => void;
  outbox?: OutboxView | null;
  onDiscard?: (id: string) => void;
}) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const { symbol, text } = connectionLabel(props.connection, now);
  const outbox = outboxSummary(props.outbox ?? null);
  return (
    <header className="console-bar">
      <span className="brand">Watchfloor</span>
      <span className={`link link-${props.connection.link}`} role="status" aria-live="polite" data-link={props.connection.link}>
        <span aria-hidden="true">{symbol}</span> {text}
      </span>
      {props.operator && (
        <span
          className={`outbox${outbox.failed.length > 0 ? " outbox-failed" : outbox.waiting > 0 ? " outbox-waiting" : ""}`}
          data-outbox-count={outbox.count}
          role="status"
          aria-live="polite"
        >
          <span aria-hidden="true">{outbox.symbol}</span> Outbox: {outbox.text}
          {outbox.failed.length > 0 && (
            <details className="outbox-failures">
              <summary>Show failed</summary>
              <ul>
                {outbox.failed.map((item) => (
                  <li key={item.id} data-outbox-id={item.id}>
                    <span>
                      {item.summary} — {item.last_error ?? "failed"}
                    </span>
                    <button type="button" data-action="discard" onClick={() => props.onDiscard?.(item.id)}>
                      Discard
                    </button>
                  </li>
                ))}
              </ul>
            </details>
          )}
        </span>
      )}
      {props.operator && (
        <span className="operator">
          {props.operator.display_name} ({props.operator.grants.map((g) => `${g.role} @ ${g.site}`).join(", ")})
          <button type="button" onClick={props.onSignOut}>
            Sign out
          </button>
        </span>
      )}
    </header>
  );
}
