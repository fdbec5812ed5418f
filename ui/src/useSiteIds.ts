import { useMemo } from "react";

/** The ids of `sites`, as one value that changes only when the ids do (for effect deps). */
export function useSiteIds(sites: { id: string }[]): string[] {
  const key = sites.map((s) => s.id).join("\n");
  return useMemo(() => (key ? key.split("\n") : []), [key]);
}
