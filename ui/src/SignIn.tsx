import { ErrorNote } from "./ErrorNote";
import { useState, type FormEvent } from "react";
import type { Caller } from "./generated/hub";
import type { AppError, LastSignIn } from "./generated/app";
import type { Transport } from "./transport";

/** Sign in to a hub: its address, the user, the password (or the remembered one). */
export function SignIn(props: {
  transport: Transport;
  last: LastSignIn | null;
  keychainProblem: string | null;
  /** This installation can start the embedded demo. */
  demoAvailable?: boolean;
  onSignedIn: (operator: Caller) => void;
}) {
  const { last } = props;
  // The browser console signs in to the hub that served it: no address, no keychain, no CA file.
  const browser = props.transport.browser;
  const [hub, setHub] = useState(last?.hub ?? (browser ? window.location.origin : "https://"));
  const [username, setUsername] = useState(last?.username ?? "");
  const [password, setPassword] = useState("");
  const [remember, setRemember] = useState(last?.remember ?? false);
  const [caFile, setCaFile] = useState(last?.ca_file ?? "");
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const operator = await props.transport.call<Caller>("sign_in", {
        request: {
          hub,
          username,
          password: password === "" ? null : password,
          remember,
          ca_file: caFile.trim() === "" ? null : caFile.trim(),
        },
      });
      setPassword("");
      props.onSignedIn(operator);
    } catch (e) {
      setError(e as AppError);
    } finally {
      setBusy(false);
    }
  };

  const startDemo = async () => {
    setBusy(true);
    setError(null);
    try {
      props.onSignedIn(await props.transport.call<Caller>("start_demo"));
    } catch (e) {
      setError(e as AppError);
    } finally {
      setBusy(false);
    }
  };

  const canUseRemembered = last?.remember && last.hub === hub && last.username === username;
  return (
    <main className="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Watchfloor</h1>
        {browser ? (
          <p className="note">Hub: {hub}</p>
        ) : (
          <label>
            Hub address
            <input name="hub" value={hub} onChange={(e) => setHub(e.target.value)} autoComplete="url" required />
          </label>
        )}
        <label>
          User name
          <input name="username" value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" required />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete="current-password"
            placeholder={canUseRemembered ? "remembered in the keychain" : ""}
            required={!canUseRemembered}
          />
        </label>
        {!browser && (
          <>
            <label className="check">
              <input type="checkbox" name="remember" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
              Remember me on this computer (in the system keychain)
            </label>
            {props.keychainProblem && <p className="note">Remember me is unavailable: {props.keychainProblem}</p>}
            <details>
              <summary>Certificate</summary>
              <label>
                The hub's CA file (PEM), when its certificate is not from a public authority
                <input name="ca_file" value={caFile} onChange={(e) => setCaFile(e.target.value)} />
              </label>
            </details>
          </>
        )}
        <ErrorNote error={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {props.demoAvailable && !browser && !last && (
        <section className="demo-offer" aria-labelledby="demo-title">
          <h2 id="demo-title">No hub yet?</h2>
          <p>
            Try Watchfloor on this computer: the demo starts a hub and a simulated site (sixteen cameras, eight doors) and signs
            you in as its guard. Nothing leaves this computer.
          </p>
          <button type="button" data-action="start-demo" disabled={busy} onClick={() => void startDemo()}>
            {busy ? "Starting the demo…" : "Try the demo"}
          </button>
        </section>
      )}
    </main>
  );
}
