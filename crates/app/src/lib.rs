//! The desktop app's core, under the thin Tauri shell (`src-tauri/`): the operator's session
//! on a hub and its live link, the camera tree, the walls and what they show (layouts,
//! cameras, tours), saved and shared layouts, the OS keychain that remembers the password,
//! and what the app remembers between runs. Nothing here knows Tauri or the webview.
//!
//! - [`core`]: [`Core`], whose methods the shell's commands call, and the [`AppEvent`]s it
//!   emits.
//! - [`walls`]: what each wall shows, sent to its render thread as commands.
//! - [`hub_client`] and [`connection`]: the hub's HTTP API and its live feed.
//! - [`hub_requests`]: what the console may read and write on the hub, and which writes wait
//!   in the [`outbox`] (SQLite, delivered exactly once) while the hub is away.
//! - [`keychain`], [`profile`], [`instance`]: passwords, remembered state, one instance.

pub mod cameras;
pub mod connection;
pub mod core;
pub mod delivery;
pub mod error;
pub mod hub_client;
pub mod hub_requests;
pub mod instance;
pub mod keychain;
pub mod outbox;
pub mod profile;
pub mod typescript;
pub mod walls;

pub use crate::cameras::SiteTree;
pub use crate::core::{AppEvent, Core, Events, SignIn, Startup};
/// The embedded demo's parts, for the shell.
pub use contract;
pub use demo;
pub use error::{AppError, Result};
