import { useEffect, useState } from "react";
import { connectionLabel } from "./status";
import type { ConnectionState, Operator } from "./types";

/** The connection to the hub, always in sight, with who is signed in. */
export function StatusBar(props: { connection: ConnectionState; operator: Operator | null; onSignOut: () => void }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const { symbol, text } = connectionLabel(props.connection, now);
  return (
    <header className="console-bar">
      <span className="brand">Watchfloor</span>
      <span className={`link link-${props.connection.link}`} role="status" aria-live="polite" data-link={props.connection.link}>
        <span aria-hidden="true">{symbol}</span> {text}
      </span>
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
