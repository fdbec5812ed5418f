//! The desktop app's core, under the thin Tauri shell (`src-tauri/`, next): the operator's
//! session on a hub and the OS keychain that remembers its password; the media engine and the
//! walls join it with the app itself. Nothing here knows Tauri.

pub mod keychain;
