// Who may do what, as the hub decides it (crates/hub/src/model.rs, `Role::allows`), so the
// console offers only the actions that will succeed. The hub still checks every request.

import type { Caller } from "./generated/hub";

export type Right =
  | "acknowledge-alarm"
  | "forward-alarm"
  | "close-alarm"
  | "write-incident"
  | "manage-incident"
  | "delete-incident"
  | "door-unlock"
  | "lockdown";

const MATRIX: Record<string, readonly Right[]> = {
  guard: ["acknowledge-alarm", "forward-alarm", "write-incident", "door-unlock"],
  supervisor: ["acknowledge-alarm", "forward-alarm", "close-alarm", "write-incident", "manage-incident", "door-unlock", "lockdown"],
  manager: ["acknowledge-alarm", "forward-alarm", "close-alarm", "write-incident", "manage-incident", "delete-incident"],
  "it-admin": [],
};

/** The operator's role on `site`: the site's own grant, else the `*` grant (as the hub does). */
export function roleOn(operator: Caller | null, site: string): string | null {
  if (!operator) return null;
  return (operator.grants.find((g) => g.site === site) ?? operator.grants.find((g) => g.site === "*"))?.role ?? null;
}

/** Whether the operator's role on `site` allows `right`. */
export function can(operator: Caller | null, site: string, right: Right): boolean {
  const role = roleOn(operator, site);
  return role !== null && (MATRIX[role]?.includes(right) ?? false);
}

/** Sites the operator may act on with `right` among `sites`. */
export function sitesWhere(operator: Caller | null, sites: readonly string[], right: Right): string[] {
  return sites.filter((s) => can(operator, s, right));
}
