-- Watchfloor hub schema, version 7: evidence exports from incidents, each camera's signed
-- export kept as a note's files.

CREATE TABLE evidence_exports (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    site_id TEXT NOT NULL REFERENCES sites (id),
    -- JSON arrays: the cameras asked for, and the notes holding each camera's files; a JSON
    -- object: each note's recorder and its public key when the files came.
    cameras TEXT NOT NULL,
    notes TEXT NOT NULL,
    signers TEXT NOT NULL,
    -- Unix milliseconds.
    start_at BIGINT NOT NULL,
    end_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);

CREATE INDEX evidence_exports_incident ON evidence_exports (incident_id);
