-- Watchfloor hub schema, version 4: evidence locks (a camera's recorded range kept until
-- released, whatever its recorder's retention says) and each recorder's last health report.

CREATE TABLE evidence_locks (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites (id),
    camera_id TEXT NOT NULL,
    -- Unix milliseconds.
    start_at BIGINT NOT NULL,
    end_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    released_by TEXT,
    released_at BIGINT
);

CREATE INDEX evidence_locks_site ON evidence_locks (site_id, camera_id);

CREATE TABLE recorder_health (
    recorder_id TEXT PRIMARY KEY REFERENCES recorders (id),
    -- When the hub last heard from it (Unix ms), and the recorder's own time of its last
    -- signed sync: a sync not newer than that is a replay and is refused.
    seen_at BIGINT NOT NULL,
    signed_at BIGINT NOT NULL,
    -- The last report, as JSON (contract::RecorderReport).
    report TEXT NOT NULL
);
