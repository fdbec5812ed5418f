// Accounts as the console shows them: what a password must be before the hub is asked, how a
// user's grants read, and editing a list of grants. Pure: the components call the hub.

import type { Grant, Role, User } from "./generated/hub";

/** The hub's own floor (`auth::MIN_PASSWORD`); the hub still checks. */
export const MIN_PASSWORD = 8;

export const ROLE_NAMES: Record<Role, string> = {
  guard: "Guard",
  supervisor: "Supervisor",
  manager: "Manager",
  "it-admin": "IT admin",
};

export const ROLES = Object.keys(ROLE_NAMES) as Role[];

/** Why `password` (typed twice) will not do, in words; `null` when it will. */
export function passwordProblem(password: string, again: string): string | null {
  if ([...password].length < MIN_PASSWORD) return `A password needs at least ${MIN_PASSWORD} characters.`;
  if (password !== again) return "The two passwords differ.";
  return null;
}

/** A user's grants in words: "Guard at Headquarters, IT admin everywhere". */
export function grantsText(grants: readonly Grant[], siteNames: ReadonlyMap<string, string>): string {
  if (grants.length === 0) return "No access";
  return grants
    .map((g) => `${ROLE_NAMES[g.role] ?? g.role} ${g.site === "*" ? "everywhere" : `at ${siteNames.get(g.site) ?? g.site}`}`)
    .join(", ");
}

/** `grants` with `grant` set: one grant a site, so a site already there changes its role. */
export function withGrant(grants: readonly Grant[], grant: Grant): Grant[] {
  const others = grants.filter((g) => g.site !== grant.site);
  return [...others, grant].sort((a, b) => (a.site === "*" ? -1 : b.site === "*" ? 1 : a.site.localeCompare(b.site)));
}

/** `grants` without the one for `site`. */
export function withoutGrant(grants: readonly Grant[], site: string): Grant[] {
  return grants.filter((g) => g.site !== site);
}

/** Users in the order an IT admin reads them: enabled first, then by display name. */
export function sortUsers(users: readonly User[]): User[] {
  return [...users].sort(
    (a, b) => Number(a.disabled) - Number(b.disabled) || a.display_name.localeCompare(b.display_name) || a.username.localeCompare(b.username),
  );
}
