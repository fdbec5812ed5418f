// The camera tree's logic: search and keyboard order, apart from its rendering.

import type { KnownCamera, SiteTree } from "./generated/app";

/** Sites and floors with only the cameras that match `query` (name or id, any case, every
 *  word); empty floors and sites drop out. An empty query keeps everything. */
export function filterTree(sites: readonly SiteTree[], query: string): SiteTree[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return sites.map((s) => ({ ...s, floors: [...s.floors] }));
  const matches = (camera: KnownCamera, site: SiteTree, floor: string) => {
    const text = `${camera.name} ${camera.id} ${floor} ${site.name}`.toLowerCase();
    return words.every((w) => text.includes(w));
  };
  return sites
    .map((site) => ({
      ...site,
      floors: site.floors
        .map((floor) => ({ ...floor, cameras: floor.cameras.filter((c) => matches(c, site, floor.name)) }))
        .filter((floor) => floor.cameras.length > 0),
    }))
    .filter((site) => site.floors.length > 0);
}

/** Cameras in the order the tree shows them (for arrow keys). */
export function cameraOrder(sites: readonly SiteTree[]): KnownCamera[] {
  return sites.flatMap((s) => s.floors.flatMap((f) => f.cameras));
}

/** Camera names by id, for tiles and tables. */
export function cameraNames(sites: readonly SiteTree[]): Map<string, string> {
  return new Map(cameraOrder(sites).map((c) => [c.id, c.name]));
}

/** How many cameras the tree holds. */
export function cameraCount(sites: readonly SiteTree[]): number {
  return cameraOrder(sites).length;
}
