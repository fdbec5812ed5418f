//! One log set-up for every Watchfloor binary (the app, the hub, the simulator, the wall's and
//! the media engine's command lines): `tracing` events to standard error, filtered by
//! `RUST_LOG` when it is set and by the binary's own default otherwise, coloured only when
//! standard error is a terminal and `NO_COLOR` is unset (a journal or a log file gets no
//! escape codes).
//!
//! It decides where logs go and how they look, nothing about what is logged.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the process's log output. `default_filter` applies when `RUST_LOG` is unset or
/// unreadable (`"info"`, or per target: `"warn,watchfloor=info"`). Installing twice keeps the
/// first (tests and embedders may have set one up already).
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| default_filter.into());
    let no_colour = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && !no_colour)
        .try_init();
}

#[cfg(test)]
mod tests {
    #[test]
    fn installing_twice_keeps_the_first_and_does_not_panic() {
        super::init("info");
        super::init("warn");
    }
}
