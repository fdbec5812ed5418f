import { useMemo, useState } from "react";

/** The ids of `sites`, as one value that changes only when the ids do (for effect deps). */
export function useSiteIds(sites: { id: string }[]): string[] {
  const key = sites.map((s) => s.id).join("\n");
  return useMemo(() => (key ? key.split("\n") : []), [key]);
}

/** The site chosen among `sites`: the first until another is chosen, and the first again when
 *  the chosen one is no longer listed. Derived, not kept: a view opened before the sites are
 *  read (right after sign-in) gets one once they are. */
export function useSiteChoice(sites: { id: string }[]): [string, (site: string) => void] {
  const [chosen, choose] = useState("");
  const site = sites.some((s) => s.id === chosen) ? chosen : (sites[0]?.id ?? "");
  return [site, choose];
}
