//! The keychain against a real gnome-keyring, each scenario in a private D-Bus session with its
//! own keyring folder: unlocked (passwords round-trip), locked (a clear error within the
//! timeout, no hang), no Secret Service on the bus, and no bus at all.
//!
//! A scenario runs by re-running this test binary, one test, inside `dbus-run-session` with
//! `WATCHFLOOR_KEYCHAIN_SCENARIO` set; the outer test checks the inner run passed.

use app::keychain::{Account, Keychain, KeychainError};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const SCENARIO: &str = "WATCHFLOOR_KEYCHAIN_SCENARIO";
const KEYRING_PASSWORD: &str = "keyring test password";
const TIMEOUT: Duration = Duration::from_secs(3);

fn account() -> Account {
    Account {
        hub: "https://127.0.0.1:8443".into(),
        username: "guard".into(),
    }
}

fn scratch(name: &str) -> PathBuf {
    testkit::scratch(&format!("keychain-{name}"))
}

/// Runs `test` again in a private session prepared by `setup` (shell), with `scenario` set.
fn run_inside(test: &str, scenario: &str, setup: &str, bus_config: Option<&str>) {
    let home = scratch(scenario);
    let mut command = Command::new("dbus-run-session");
    if let Some(config) = bus_config {
        let path = home.join("bus.conf");
        std::fs::write(&path, config).expect("bus config");
        command.arg(format!("--config-file={}", path.display()));
    }
    let output = command
        .args(["--", "sh", "-c"])
        .arg(format!(
            "{setup}\nexec \"$0\" --exact {test} --nocapture --test-threads 1"
        ))
        .arg(std::env::current_exe().expect("test binary"))
        .env(SCENARIO, scenario)
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_RUNTIME_DIR", &home)
        .env_remove("DISPLAY")
        .output()
        .expect("dbus-run-session (apt install dbus)");
    let _ = std::fs::remove_dir_all(&home);
    assert!(
        output.status.success(),
        "scenario {scenario} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{}", String::from_utf8_lossy(&output.stdout));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 passed"),
        "the inner test did not run: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}

fn scenario() -> Option<String> {
    std::env::var(SCENARIO).ok()
}

#[test]
fn passwords_round_trip_through_an_unlocked_keyring() {
    if scenario().is_none() {
        let unlock = format!(
            "printf '%s' '{KEYRING_PASSWORD}' | gnome-keyring-daemon --unlock --components=secrets >/dev/null"
        );
        return run_inside(
            "keychain::passwords_round_trip_through_an_unlocked_keyring",
            "unlocked",
            &unlock,
            None,
        );
    }
    let keychain = Keychain::platform(TIMEOUT).expect("the Secret Service answers");
    assert_eq!(keychain.load(&account()), Ok(None));
    keychain
        .save(&account(), "remembered password")
        .expect("save");
    assert_eq!(
        keychain.load(&account()),
        Ok(Some("remembered password".into()))
    );
    // Another user on the same hub is a different entry.
    let other = Account {
        username: "supervisor".into(),
        ..account()
    };
    assert_eq!(keychain.load(&other), Ok(None));
    keychain.forget(&account()).expect("forget");
    assert_eq!(keychain.load(&account()), Ok(None));
}

#[test]
fn a_locked_keyring_is_a_clear_error_not_a_hang() {
    if scenario().is_none() {
        // Make the login keyring, then restart the daemon without its password: locked.
        let lock = format!(
            "printf '%s' '{KEYRING_PASSWORD}' | gnome-keyring-daemon --unlock --components=secrets >/dev/null\n\
             gnome-keyring-daemon --replace --daemonize --components=secrets >/dev/null\nsleep 0.5"
        );
        return run_inside(
            "keychain::a_locked_keyring_is_a_clear_error_not_a_hang",
            "locked",
            &lock,
            None,
        );
    }
    let started = Instant::now();
    let result = Keychain::platform(TIMEOUT).and_then(|k| k.save(&account(), "secret"));
    let elapsed = started.elapsed();
    println!("locked keyring: {result:?} after {elapsed:?}");
    match result {
        Err(KeychainError::Locked(_))
        | Err(KeychainError::NoAnswer(_))
        | Err(KeychainError::Failed(_)) => {}
        other => panic!("a locked keyring must refuse clearly, got {other:?}"),
    }
    assert!(
        elapsed < TIMEOUT * 2 + Duration::from_secs(1),
        "answered in {elapsed:?}"
    );
}

#[test]
fn no_secret_service_on_the_bus_is_unavailable() {
    if scenario().is_none() {
        // A bus that cannot start services, with no keyring daemon on it.
        let config = "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \
            \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\
            <busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen><auth>EXTERNAL</auth>\
            <policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\
            <allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>";
        return run_inside(
            "keychain::no_secret_service_on_the_bus_is_unavailable",
            "absent",
            ":",
            Some(config),
        );
    }
    let started = Instant::now();
    let result = Keychain::platform(TIMEOUT).and_then(|k| k.load(&account()));
    println!("no Secret Service: {result:?}");
    assert!(
        matches!(
            result,
            Err(KeychainError::Unavailable(_))
                | Err(KeychainError::NoAnswer(_))
                | Err(KeychainError::Failed(_))
        ),
        "{result:?}"
    );
    assert!(started.elapsed() < TIMEOUT * 2 + Duration::from_secs(1));
}

#[test]
fn no_bus_at_all_is_unavailable() {
    if scenario().is_none() {
        let status = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "keychain::no_bus_at_all_is_unavailable",
                "--test-threads",
                "1",
            ])
            .env(SCENARIO, "no-bus")
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/watchfloor-bus",
            )
            .status()
            .expect("test binary");
        assert!(status.success());
        return;
    }
    let started = Instant::now();
    let result = Keychain::platform(TIMEOUT);
    assert!(
        matches!(result, Err(KeychainError::Unavailable(_))),
        "{result:?}"
    );
    assert!(started.elapsed() < TIMEOUT + Duration::from_secs(1));
}
