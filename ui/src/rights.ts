// Who may do what, as the hub decides it (the rights matrix generated from the contract's
// `Role::allows`), so the console offers only the actions that will succeed. The hub still
// checks every request.

import { RIGHTS, type Caller, type Right, type Role } from "./generated/hub";

/** The operator's role on `site`: the site's own grant, else the `*` grant (as the hub does). */
export function roleOn(operator: Caller | null, site: string): Role | null {
  if (!operator) return null;
  return (operator.grants.find((g) => g.site === site) ?? operator.grants.find((g) => g.site === "*"))?.role ?? null;
}

/** Whether the operator's role on `site` allows `right`. */
export function can(operator: Caller | null, site: string, right: Right): boolean {
  const role = roleOn(operator, site);
  // A role this console does not know (a newer hub's) may do nothing here.
  return role !== null && Object.hasOwn(RIGHTS, role) && RIGHTS[role].includes(right);
}

/** Sites the operator may act on with `right` among `sites`. */
export function sitesWhere(operator: Caller | null, sites: readonly string[], right: Right): string[] {
  return sites.filter((s) => can(operator, s, right));
}
