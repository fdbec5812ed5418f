-- Watchfloor hub schema, version 2: saved wall layouts, private to their owner or shared with
-- a site's operators.

CREATE TABLE layouts (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES users (id),
    -- The site whose operators see the layout; NULL while it is private.
    shared_site TEXT REFERENCES sites (id),
    name TEXT NOT NULL,
    -- The layout as the client saved it (tiles, cameras, tours): JSON the hub checks for size
    -- and shape only; clients check it again when they open it.
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX layouts_owner ON layouts (owner_id);
CREATE INDEX layouts_shared_site ON layouts (shared_site);
