import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { ErrorNote } from "./ErrorNote";
import { newId } from "./ids";
import { when } from "./time";
import type { Transport } from "./transport";
import { grantsText, passwordProblem, ROLE_NAMES, ROLES, sortUsers, withGrant, withoutGrant } from "./users";
import type { AppError, WriteOutcome } from "./generated/app";
import type { Caller, Grant, NewUser, PasswordChange, Role, SessionInfo, User } from "./generated/hub";

type Site = { id: string; name: string };

/** A write that must reach the hub now (accounts are never queued: their bodies hold
 *  passwords, and a grant that waited would surprise); its answer, or the refusal thrown. */
async function write<T>(transport: Transport, method: string, path: string, body: unknown): Promise<T> {
  const outcome = await transport.call<WriteOutcome>("hub_write", { method, path, body });
  if (outcome.status === "queued") throw { code: "bad_input", message: "an account change was queued, which it must never be" } satisfies AppError;
  return (outcome.status === "delivered" ? outcome.value : null) as T;
}

const userPath = (id: string) => `/users/${encodeURIComponent(id)}`;

/** Reads of which only the newest one's answer (or refusal) is applied: one asked for later
 *  wins over one answered later. */
function useNewestOnly() {
  const reads = useRef(0);
  return useCallback(<T,>(read: Promise<T>, apply: (value: T) => void, fail: (error: AppError) => void) => {
    const mine = ++reads.current;
    read.then(
      (value) => mine === reads.current && apply(value),
      (error: AppError) => mine === reads.current && fail(error),
    );
  }, []);
}

/** A button for what cannot be taken back without another step (signing someone out): asks
 *  first, in place. */
function Confirmed(props: { action: string; label: string; question: string; disabled?: boolean; title?: string; onConfirm: () => void }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" data-action={props.action} disabled={props.disabled} title={props.title} onClick={() => setAsking(true)}>
        {props.label}…
      </button>
    );
  }
  return (
    <span className="confirm" role="group" aria-label={props.question}>
      {props.question}{" "}
      <button
        type="button"
        data-action={`${props.action}-confirm`}
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        Yes, {props.label.toLowerCase()}
      </button>{" "}
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/** The roles, for a `<select>`. */
function RoleOptions() {
  return ROLES.map((r) => (
    <option key={r} value={r}>
      {ROLE_NAMES[r]}
    </option>
  ));
}

/** Every site (`*`), then each site, for a `<select>`. */
function SiteOptions(props: { sites: Site[] }) {
  return [{ id: "*", name: "Every site" }, ...props.sites].map((s) => (
    <option key={s.id} value={s.id}>
      {s.name}
    </option>
  ));
}

/** Two password fields and why what is in them will not do. */
function NewPassword(props: { label: string; value: [string, string]; onChange: (value: [string, string]) => void }) {
  const [password, again] = props.value;
  return (
    <>
      <label>
        {props.label}
        <input type="password" name="new-password" autoComplete="new-password" value={password} onChange={(e) => props.onChange([e.target.value, again])} />
      </label>
      <label>
        Again
        <input type="password" name="new-password-again" autoComplete="new-password" value={again} onChange={(e) => props.onChange([password, e.target.value])} />
      </label>
    </>
  );
}

/** A user's sessions: where each signed in from and when, each ended on its own; `onEnded`
 *  hears when the current one was. */
function Sessions(props: { transport: Transport; user: string; refresh: number; onEndedCurrent?: () => void }) {
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const path = `${userPath(props.user)}/sessions`;
  const newest = useNewestOnly();
  const load = useCallback(
    () =>
      newest(
        props.transport.call<SessionInfo[]>("hub_get", { path }),
        (list) => {
          setSessions(list);
          setError(null);
        },
        setError,
      ),
    [props.transport, path, newest],
  );
  useEffect(load, [load, props.refresh]);

  const end = async (session: SessionInfo) => {
    // One's own session here: signing out, which ends it and lets go of what holds it.
    if (session.current && props.onEndedCurrent) return props.onEndedCurrent();
    try {
      setError(null);
      await write(props.transport, "DELETE", `${path}/${encodeURIComponent(session.id)}`, null);
      load();
    } catch (e) {
      setError(e as AppError);
    }
  };

  return (
    <div className="sessions">
      <h4>Sessions</h4>
      <ErrorNote error={error} />
      {sessions === null ? (
        <p className="note">Reading…</p>
      ) : sessions.length === 0 ? (
        <p className="empty">Signed in nowhere.</p>
      ) : (
        <ul className="session-list">
          {sessions.map((s) => (
            <li key={s.id} data-session-id={s.id} data-current={s.current}>
              <span>Since {when(s.created)}</span> <span>from {s.client || "an unrecorded address"}</span> <span className="hint">until {when(s.expires)}</span>
              {s.current && <strong> (this session)</strong>}{" "}
              {!(s.current && !props.onEndedCurrent) && (
                <button type="button" aria-label={s.current ? "Sign out here" : `End the session from ${s.client || "an unrecorded address"} since ${when(s.created)}`} onClick={() => void end(s)}>
                  {s.current ? "Sign out here" : "End"}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The signed-in user's own account: a new password (the current one asked first; every other
 *  session ends) and where they are signed in. */
export function Account(props: { transport: Transport; operator: Caller; onSignedOut: () => void }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState<[string, string]>(["", ""]);
  const [error, setError] = useState<AppError | null>(null);
  const [done, setDone] = useState(false);
  const [refresh, setRefresh] = useState(0);
  const problem = passwordProblem(...next);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (problem || current === "") return;
    try {
      setError(null);
      setDone(false);
      const body: PasswordChange = { current, password: next[0] };
      await write(props.transport, "PUT", "/me/password", body);
      setCurrent("");
      setNext(["", ""]);
      setDone(true);
      setRefresh((n) => n + 1);
    } catch (e) {
      setError(e as AppError);
    }
  };

  return (
    <section className="panel account" aria-label="My account">
      <h3>
        {props.operator.display_name} <span className="hint">({props.operator.username})</span>
      </h3>
      <form className="change-password" onSubmit={(e) => void submit(e)}>
        <h4>Change password</h4>
        <label>
          Current password
          <input type="password" name="current-password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
        </label>
        <NewPassword label="New password" value={next} onChange={setNext} />
        {next[0] !== "" && problem && <p className="hint">{problem}</p>}
        <button type="submit" disabled={!!problem || current === ""}>
          Change password
        </button>
        {done && (
          <p className="result" role="status">
            Password changed. Your other sessions were ended.
          </p>
        )}
        <ErrorNote error={error} />
      </form>
      <Sessions transport={props.transport} user={props.operator.user_id} refresh={refresh} onEndedCurrent={props.onSignedOut} />
    </section>
  );
}

/** One user as an IT admin manages them: enable or disable, a new password, the grants, the
 *  sessions. */
function UserDetail(props: { transport: Transport; user: User; self: boolean; sites: Site[]; onChanged: (user: User | null) => void }) {
  const { transport, user } = props;
  const [error, setError] = useState<AppError | null>(null);
  const [said, setSaid] = useState<string | null>(null);
  const [password, setPassword] = useState<[string, string]>(["", ""]);
  const [grants, setGrants] = useState<Grant[]>(user.grants);
  const [addSite, setAddSite] = useState("*");
  const [addRole, setAddRole] = useState<Role>("guard");
  const [refresh, setRefresh] = useState(0);
  // What the hub holds, read again (not each time the list is read): edits not yet saved stay.
  const held = JSON.stringify(user.grants);
  useEffect(() => setGrants(user.grants), [user.id, held]);
  const problem = passwordProblem(...password);
  const grantsChanged = JSON.stringify(grants) !== JSON.stringify(user.grants);
  const siteNames = useMemo(() => new Map(props.sites.map((s) => [s.id, s.name])), [props.sites]);

  const run = async (what: string, action: () => Promise<User | null>) => {
    try {
      setError(null);
      setSaid(null);
      const changed = await action();
      setSaid(what);
      setRefresh((n) => n + 1);
      props.onChanged(changed);
    } catch (e) {
      setError(e as AppError);
    }
  };

  return (
    <div className="user-detail" data-user-id={user.id}>
      <div className="row">
        {user.disabled ? (
          <button type="button" data-action="enable" onClick={() => void run("Enabled.", () => write<User>(transport, "POST", `${userPath(user.id)}/enable`, {}))}>
            Enable
          </button>
        ) : (
          <Confirmed
            action="disable"
            label="Disable"
            question={`Disable ${user.display_name}: sign-in refused and signed out everywhere?`}
            disabled={props.self}
            title={props.self ? "You cannot disable your own account" : "Sign-in refused and every session ended"}
            onConfirm={() => void run("Disabled: signed out everywhere.", () => write<User>(transport, "POST", `${userPath(user.id)}/disable`, {}))}
          />
        )}
        {!props.self && (
          <Confirmed
            action="end-sessions"
            label="End every session"
            question={`Sign ${user.display_name} out everywhere?`}
            onConfirm={() => void run("Every session ended.", async () => (await write(transport, "DELETE", `${userPath(user.id)}/sessions`, null), null))}
          />
        )}
      </div>
      {props.self ? (
        <p className="hint">Your own password and sessions are on the My account tab.</p>
      ) : (
        <form
          className="reset-password"
          onSubmit={(e) => {
            e.preventDefault();
            if (problem) return;
            void run("Password set: signed out everywhere.", async () => {
              await write(transport, "PUT", `${userPath(user.id)}/password`, { password: password[0] });
              setPassword(["", ""]);
              return null;
            });
          }}
        >
          <h4>Set a new password</h4>
          <NewPassword label="New password" value={password} onChange={setPassword} />
          {password[0] !== "" && problem && <p className="hint">{problem}</p>}
          <button type="submit" disabled={!!problem}>
            Set password
          </button>
        </form>
      )}
      <div className="grants">
        <h4>Access</h4>
        <ul>
          {grants.map((g) => (
            <li key={g.site} data-grant-site={g.site}>
              {g.site === "*" ? "Every site" : (siteNames.get(g.site) ?? g.site)}:{" "}
              <select aria-label={`Role ${g.site === "*" ? "at every site" : `at ${siteNames.get(g.site) ?? g.site}`}`} value={g.role} onChange={(e) => setGrants(withGrant(grants, { site: g.site, role: e.target.value as Role }))}>
                <RoleOptions />
              </select>{" "}
              <button type="button" aria-label={`Remove the grant ${g.site === "*" ? "for every site" : `at ${siteNames.get(g.site) ?? g.site}`}`} onClick={() => setGrants(withoutGrant(grants, g.site))}>
                Remove
              </button>
            </li>
          ))}
        </ul>
        <div className="row">
          <select aria-label="Site" name="grant-site" value={addSite} onChange={(e) => setAddSite(e.target.value)}>
            <SiteOptions sites={props.sites} />
          </select>
          <select aria-label="Role" name="grant-role" value={addRole} onChange={(e) => setAddRole(e.target.value as Role)}>
            <RoleOptions />
          </select>
          <button type="button" onClick={() => setGrants(withGrant(grants, { site: addSite, role: addRole }))}>
            Add
          </button>
          <button
            type="button"
            data-action="save-grants"
            disabled={!grantsChanged}
            onClick={() => void run("Access saved.", () => write<User>(transport, "PUT", `${userPath(user.id)}/grants`, { grants }))}
          >
            Save access
          </button>
          {grantsChanged && <span className="hint">{grantsText(grants, siteNames)}</span>}
        </div>
      </div>
      {said && (
        <p className="result" role="status">
          {said}
        </p>
      )}
      <ErrorNote error={error} />
      {!props.self && <Sessions transport={transport} user={user.id} refresh={refresh} />}
    </div>
  );
}

/** The IT admin's Users view: every account, a new one, and each managed in place. */
export function Users(props: { transport: Transport; operator: Caller; sites: Site[] }) {
  const { transport } = props;
  const [users, setUsers] = useState<User[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  // No site until one is chosen: access to every site is a choice, never a default.
  const [adding, setAdding] = useState({ username: "", display_name: "", site: "", role: "guard" as Role });
  // The new user's id, kept until the hub has them: a retry after a lost answer adds no one twice.
  const addId = useRef(newId());
  const [password, setPassword] = useState<[string, string]>(["", ""]);
  const [added, setAdded] = useState<string | null>(null);
  const siteNames = useMemo(() => new Map(props.sites.map((s) => [s.id, s.name])), [props.sites]);
  const problem = passwordProblem(...password);

  const newest = useNewestOnly();
  const load = useCallback(
    () =>
      newest(
        transport.call<User[]>("hub_get", { path: "/users" }),
        (list) => {
          setUsers(sortUsers(list));
          setError(null);
        },
        setError,
      ),
    [transport, newest],
  );
  useEffect(load, [load]);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    if (problem || adding.username.trim() === "" || adding.site === "") return;
    const body: NewUser = {
      id: addId.current,
      username: adding.username.trim(),
      display_name: adding.display_name.trim() || adding.username.trim(),
      password: password[0],
      grants: [{ site: adding.site, role: adding.role }],
    };
    try {
      setError(null);
      const user = await write<User>(transport, "POST", "/users", body);
      addId.current = newId();
      setAdded(user.username);
      setAdding({ username: "", display_name: "", site: adding.site, role: adding.role });
      setPassword(["", ""]);
      load();
    } catch (e) {
      setError(e as AppError);
    }
  };

  return (
    <section className="panel users" aria-label="Users">
      <ErrorNote error={error} />
      {users === null ? (
        <p className="note">Reading…</p>
      ) : (
        <table className="user-list">
          <thead>
            <tr>
              <th>Name</th>
              <th>User name</th>
              <th>Access</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <UserRow
                key={u.id}
                user={u}
                access={grantsText(u.grants, siteNames)}
                open={open === u.id}
                onToggle={() => setOpen(open === u.id ? null : u.id)}
              >
                <UserDetail
                  transport={transport}
                  user={u}
                  self={u.id === props.operator.user_id}
                  sites={props.sites}
                  onChanged={(changed) => (changed ? setUsers((list) => sortUsers((list ?? []).map((x) => (x.id === changed.id ? changed : x)))) : load())}
                />
              </UserRow>
            ))}
          </tbody>
        </table>
      )}
      <form className="add-user" onSubmit={(e) => void add(e)}>
        <h4>Add a user</h4>
        <label>
          User name
          <input name="username" autoComplete="off" value={adding.username} onChange={(e) => setAdding({ ...adding, username: e.target.value })} />
        </label>
        <label>
          Name
          <input name="display-name" autoComplete="off" value={adding.display_name} onChange={(e) => setAdding({ ...adding, display_name: e.target.value })} />
        </label>
        <NewPassword label="Password" value={password} onChange={setPassword} />
        <label>
          Site
          <select name="site" value={adding.site} onChange={(e) => setAdding({ ...adding, site: e.target.value })}>
            <option value="" disabled>
              Choose…
            </option>
            <SiteOptions sites={props.sites} />
          </select>
        </label>
        <label>
          Role
          <select name="role" value={adding.role} onChange={(e) => setAdding({ ...adding, role: e.target.value as Role })}>
            <RoleOptions />
          </select>
        </label>
        {password[0] !== "" && problem && <p className="hint">{problem}</p>}
        <button type="submit" disabled={!!problem || adding.username.trim() === "" || adding.site === ""}>
          Add user
        </button>
        {added && (
          <p className="result" role="status">
            {added} added.
          </p>
        )}
      </form>
    </section>
  );
}

function UserRow(props: { user: User; access: string; open: boolean; onToggle: () => void; children: React.ReactNode }) {
  const { user } = props;
  return (
    <>
      <tr data-user-id={user.id} data-username={user.username} data-state={user.disabled ? "disabled" : "enabled"} className={user.disabled ? "user-disabled" : undefined}>
        <td>{user.display_name}</td>
        <td>{user.username}</td>
        <td>{props.access}</td>
        <td>{user.disabled ? "Disabled" : "Enabled"}</td>
        <td>
          <button type="button" aria-expanded={props.open} aria-label={`${props.open ? "Close" : "Manage"} ${user.display_name}`} onClick={props.onToggle}>
            {props.open ? "Close" : "Manage"}
          </button>
        </td>
      </tr>
      {props.open && (
        <tr className="user-detail-row">
          <td colSpan={5}>{props.children}</td>
        </tr>
      )}
    </>
  );
}
