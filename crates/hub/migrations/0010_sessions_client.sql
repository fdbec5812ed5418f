-- Watchfloor hub schema, version 10: where each session signed in from, for the sessions an IT
-- admin (or the user) lists and ends.
ALTER TABLE sessions ADD COLUMN client TEXT;
