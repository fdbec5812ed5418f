//! The app core's integration tests, against the real parts: a real hub and simulator for the
//! core, and a real Secret Service (gnome-keyring in a private D-Bus session) for the keychain.

mod core;
mod keychain;
