-- Watchfloor hub schema, version 3: a site's recorders (each the one connection to its
-- cameras and the holder of their passwords) and which recorder serves which camera.

CREATE TABLE recorders (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites (id),
    name TEXT NOT NULL,
    -- Where clients reach its restream: rtsp://host:port (cameras below, /<camera>/<stream>).
    rtsp_url TEXT NOT NULL,
    -- Its Ed25519 public key (hex): it signs the recorder's exports.
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX recorders_site ON recorders (site_id);

-- The recorder that serves the camera; NULL: clients open the camera's own URL.
ALTER TABLE cameras ADD COLUMN recorder_id TEXT REFERENCES recorders (id);
