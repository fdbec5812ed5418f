-- Watchfloor hub schema, version 5: where the hub reaches a recorder's recorded video over
-- HTTP (http://host:port), so that browsers watch through the hub with their session.

ALTER TABLE recorders ADD COLUMN playback_url TEXT;
