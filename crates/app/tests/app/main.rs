//! The app core's integration tests, against the real parts: the keychain tests run against a
//! real Secret Service (gnome-keyring in a private D-Bus session).

mod keychain;
