-- Watchfloor hub schema, version 1.
-- One dialect for SQLite and PostgreSQL: TEXT, BIGINT, DOUBLE PRECISION and BYTEA only (SQLite
-- gives them TEXT, INTEGER, REAL and NUMERIC affinity; NUMERIC keeps blobs as they are),
-- times in milliseconds since the Unix epoch, identifiers as TEXT, no booleans.

CREATE TABLE sites (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- Where door commands go (the site's access-control controller), if anywhere.
    controller_url TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE floors (
    site_id TEXT NOT NULL REFERENCES sites (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    ordinal BIGINT NOT NULL,
    width DOUBLE PRECISION NOT NULL,
    height DOUBLE PRECISION NOT NULL,
    plan_media_type TEXT NOT NULL,
    plan BYTEA NOT NULL,
    PRIMARY KEY (site_id, id)
);

CREATE TABLE zones (
    site_id TEXT NOT NULL REFERENCES sites (id),
    id TEXT NOT NULL,
    floor_id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- JSON array of [x, y] points on the floor plan.
    outline TEXT NOT NULL,
    PRIMARY KEY (site_id, id)
);

CREATE TABLE cameras (
    site_id TEXT NOT NULL REFERENCES sites (id),
    id TEXT NOT NULL,
    floor_id TEXT NOT NULL,
    name TEXT NOT NULL,
    main_url TEXT NOT NULL,
    sub_url TEXT NOT NULL,
    -- A name in the client's keychain, never the secret itself.
    credential_ref TEXT,
    x DOUBLE PRECISION NOT NULL,
    y DOUBLE PRECISION NOT NULL,
    direction_deg DOUBLE PRECISION NOT NULL,
    fov_deg DOUBLE PRECISION NOT NULL,
    ordinal BIGINT NOT NULL,
    PRIMARY KEY (site_id, id)
);

CREATE TABLE doors (
    site_id TEXT NOT NULL REFERENCES sites (id),
    id TEXT NOT NULL,
    floor_id TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    name TEXT NOT NULL,
    x DOUBLE PRECISION NOT NULL,
    y DOUBLE PRECISION NOT NULL,
    ordinal BIGINT NOT NULL,
    -- Live state in ONVIF Profile C vocabulary; NULL until the controller reports it.
    door_state TEXT,
    lock_state TEXT,
    alarm_state TEXT,
    mode TEXT,
    state_at BIGINT,
    PRIMARY KEY (site_id, id)
);

CREATE TABLE door_cameras (
    site_id TEXT NOT NULL,
    door_id TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    PRIMARY KEY (site_id, door_id, camera_id)
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);

-- A user's role on one site, or on every site when site_id is '*'.
CREATE TABLE grants (
    user_id TEXT NOT NULL REFERENCES users (id),
    site_id TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, site_id)
);

CREATE TABLE sessions (
    -- SHA-256 of the bearer token: a stolen database holds no usable token.
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Event sources that post signed webhooks; the secret is encrypted with the hub's key.
CREATE TABLE sources (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites (id),
    name TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE events (
    site_id TEXT NOT NULL,
    -- The source's own id: idempotency key for ingest.
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    event_type TEXT NOT NULL,
    topic TEXT,
    door_id TEXT,
    camera_id TEXT,
    at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    source TEXT NOT NULL,
    -- The whole event as received (JSON).
    body TEXT NOT NULL,
    PRIMARY KEY (site_id, id)
);
CREATE INDEX events_by_time ON events (site_id, at);

CREATE TABLE alarm_rules (
    site_id TEXT NOT NULL REFERENCES sites (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- Matches the event's `state` when set.
    state TEXT,
    priority BIGINT NOT NULL,
    procedure_text TEXT NOT NULL,
    PRIMARY KEY (site_id, id)
);

CREATE TABLE alarms (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    door_id TEXT,
    title TEXT NOT NULL,
    priority BIGINT NOT NULL,
    procedure_text TEXT NOT NULL,
    -- JSON array of camera ids.
    cameras TEXT NOT NULL,
    state TEXT NOT NULL,
    raised_at BIGINT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at BIGINT,
    acknowledge_comment TEXT,
    forwarded_to TEXT,
    closed_by TEXT,
    closed_at BIGINT,
    close_comment TEXT
);
CREATE INDEX alarms_by_site ON alarms (site_id, state);

CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    priority BIGINT NOT NULL,
    assignee TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);

CREATE TABLE incident_links (
    incident_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    PRIMARY KEY (incident_id, kind, target_id)
);

-- Append-only: notes are never updated or deleted.
CREATE TABLE incident_notes (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    author TEXT NOT NULL,
    at BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX notes_by_incident ON incident_notes (incident_id, at);

CREATE TABLE attachments (
    sha256 TEXT PRIMARY KEY,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    data BYTEA NOT NULL
);

CREATE TABLE note_attachments (
    note_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (note_id, sha256)
);

-- Client-made ids of writes that create no record of their own (acknowledge, door command):
-- a replay answers what the first call answered.
CREATE TABLE client_writes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    response TEXT NOT NULL
);

CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    user_id TEXT,
    action TEXT NOT NULL,
    site_id TEXT,
    target TEXT,
    detail TEXT NOT NULL
);

-- The live feed: every committed change, numbered without gaps, for clients to resume from.
CREATE TABLE changes (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    site_id TEXT,
    kind TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
