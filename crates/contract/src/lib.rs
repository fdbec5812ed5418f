//! The wire contract: every type that crosses the hub's HTTP API and its live feed, defined once
//! and used by the hub (which also derives its OpenAPI document from them), by the app core, and,
//! as generated TypeScript (`ui/src/generated/hub.ts`), by the console.
//!
//! What it must not do: know a transport, a database or a clock. Its types are plain data with
//! serde names; logic here is only what the contract itself says (the rights matrix, which
//! error codes a retry may cure).
//!
//! A shape that cannot happen is not representable: a feed change is one enum of the kinds the
//! hub sends, error codes are a closed enum, alarm and incident states are enums.

pub mod alarms;
pub mod auth;
pub mod bookmarks;
pub mod error;
pub mod events;
pub mod exports;
pub mod feed;
pub mod incidents;
pub mod layouts;
pub mod recorders;
pub mod rights;
pub mod site;
pub mod typescript;

pub use alarms::*;
pub use auth::*;
pub use bookmarks::*;
pub use error::*;
pub use events::*;
pub use exports::*;
pub use feed::*;
pub use incidents::*;
pub use layouts::*;
pub use recorders::*;
pub use rights::*;
pub use site::*;
