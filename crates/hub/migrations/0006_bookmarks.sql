-- Watchfloor hub schema, version 6: bookmarks, an instant or a range of a camera's video
-- marked with a note, by whom and when, perhaps for an incident.

CREATE TABLE bookmarks (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites (id),
    camera_id TEXT NOT NULL,
    -- Unix milliseconds; end_at is NULL for an instant.
    start_at BIGINT NOT NULL,
    end_at BIGINT,
    note TEXT NOT NULL,
    incident_id TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);

CREATE INDEX bookmarks_site_start ON bookmarks (site_id, start_at);
CREATE INDEX bookmarks_incident ON bookmarks (incident_id);
