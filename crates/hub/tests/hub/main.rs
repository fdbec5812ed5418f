//! The hub's integration tests, each against a real database: an SQLite file, and a throwaway
//! PostgreSQL cluster started from the system's `initdb` (see `testkit`).

mod accounts;
mod bookmarks;
mod console;
mod deploy;
mod document;
mod door_commands;
mod durability;
mod evidence;
mod exports;
mod feed;
mod forged;
mod hostile;
mod ingest;
mod layouts;
mod limits;
mod lockout;
mod mqtt_ingest;
mod recorder_reports;
mod recorders;
mod recordings;
mod replay;
mod rights;
mod schema;
mod support;
