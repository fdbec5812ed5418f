-- Watchfloor hub schema, version 8: ingest that another source cannot forge or suppress.

-- The source of the event that raised an alarm (its id alone no longer names it; filled while
-- the old key still finds it fast), how many more times its rule fired for the same door
-- while it was new, and each of those times (its cameras' recorders keep the video around it).
ALTER TABLE alarms ADD COLUMN event_source TEXT;
UPDATE alarms SET event_source = (
    SELECT e.source FROM events e WHERE e.site_id = alarms.site_id AND e.id = alarms.event_id
);
ALTER TABLE alarms ADD COLUMN repeats BIGINT NOT NULL DEFAULT 0;
ALTER TABLE alarms ADD COLUMN last_repeat_at BIGINT;
CREATE INDEX alarms_new_by_door ON alarms (site_id, door_id, rule_id, state);
CREATE TABLE alarm_repeats (
    alarm_id TEXT NOT NULL REFERENCES alarms (id),
    event_source TEXT NOT NULL,
    event_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (alarm_id, event_source, event_id)
);
CREATE INDEX alarm_repeats_by_time ON alarm_repeats (at);

-- An event's id is its source's own: unique per site and source, so a second source on a site
-- cannot take the controller's next ids. (The table is made again: a primary key cannot be
-- changed in place on SQLite.)
CREATE TABLE events_v8 (
    site_id TEXT NOT NULL,
    source TEXT NOT NULL,
    -- The source's own id: idempotency key for ingest.
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    event_type TEXT NOT NULL,
    topic TEXT,
    door_id TEXT,
    camera_id TEXT,
    at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    -- The whole event as received (JSON).
    body TEXT NOT NULL,
    PRIMARY KEY (site_id, source, id)
);
INSERT INTO events_v8 (site_id, source, id, kind, event_type, topic, door_id, camera_id, at, received_at, body)
    SELECT site_id, source, id, kind, event_type, topic, door_id, camera_id, at, received_at, body FROM events;
DROP TABLE events;
ALTER TABLE events_v8 RENAME TO events;
CREATE INDEX events_by_time ON events (site_id, at);

-- Each attribute of a door's state has its own time: a late report of one is not dropped
-- because another reported later. `state_at` stays the newest of them.
ALTER TABLE doors ADD COLUMN door_state_at BIGINT;
ALTER TABLE doors ADD COLUMN lock_state_at BIGINT;
ALTER TABLE doors ADD COLUMN alarm_state_at BIGINT;
ALTER TABLE doors ADD COLUMN mode_at BIGINT;
UPDATE doors SET
    door_state_at = CASE WHEN door_state IS NULL THEN NULL ELSE state_at END,
    lock_state_at = CASE WHEN lock_state IS NULL THEN NULL ELSE state_at END,
    alarm_state_at = CASE WHEN alarm_state IS NULL THEN NULL ELSE state_at END,
    mode_at = CASE WHEN mode IS NULL THEN NULL ELSE state_at END;
