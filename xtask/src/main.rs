//! `cargo xtask`: the project's automation, in Rust and with no dependencies.
//!
//! - `cargo xtask demo`  : set up, then run the demo on the embedded default.
//! - `cargo xtask test`  : set up, then run every check and test in the repository.
//! - `cargo xtask setup` : only bring this machine to a working state.
//! - `cargo xtask bench` : run the benchmarks and print their side-by-side ratios.
//!
//! Every command that builds points `CARGO_TARGET_DIR` at a cache folder outside the clone
//! (`$XDG_CACHE_HOME/watchfloor/target`, or `~/.cache/...`) unless it is already set, so that a
//! fresh clone reuses the previous build.

mod package;
mod setup;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("help", &[][..]),
    };
    let outcome = match task {
        "setup" => setup::all(),
        "test" => setup::all().and_then(|()| test(rest)),
        "demo" => setup::all().and_then(|()| demo(rest)),
        "bench" => setup::all().and_then(|()| bench(rest)),
        "package" => setup::all().and_then(|()| {
            let (deb, rpm) = package::build()?;
            eprintln!("built {}\nbuilt {}", deb.display(), rpm.display());
            match rest {
                [] => Ok(()),
                [check] if check == "--check" => package::verify(&deb, &rpm),
                other => Err(format!("`package` takes only --check, got {other:?}")),
            }
        }),
        "codegen" => codegen(),
        "help" | "--help" | "-h" => {
            println!("{}", USAGE);
            Ok(())
        }
        other => Err(format!("unknown task `{other}`\n{USAGE}")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask <task>
  demo    set up, then run the demo: a hub on SQLite, the simulated site (16 cameras, 8 doors)
          and the app signed in as the demo guard with a live 4x4 wall (stream health in the
          terminal when there is no display)
  test    set up, then run every check and test (UI build and tests, fmt, clippy, Rust tests
          including the app's end-to-end tests under Xvfb)
  package build the app's .deb and .rpm (debug binaries; see docs/release.md for release
          builds); --check also inspects them, installs the .deb and runs it (as the test does)
  codegen regenerate what the UI takes from Rust (ui/src/generated/)
  setup   install what is missing: system packages (apt), Node packages (npm), pinned cargo tools
  bench   set up, then run the benchmarks (decode cost against gst-launch-1.0; the wall against
          bare decoding and GStreamer's compositor)";

/// The repository root (the parent of this crate's folder).
fn root() -> PathBuf {
    // `cargo run` says where xtask's manifest is now; the path compiled in may be another
    // clone's, since clones share one build folder.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The shared build folder, outside the clone.
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("watchfloor").join("target")
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(root())
        .env("CARGO_TARGET_DIR", target_dir());
    command
}

/// Runs `command`, echoing it first; fails with its exit status.
fn run(command: &mut Command) -> Result<()> {
    eprintln!("+ {command:?}");
    let status = command
        .status()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {status}"))
    }
}

fn test(args: &[String]) -> Result<()> {
    if !args.is_empty() {
        return Err(format!("`test` takes no arguments, got {args:?}"));
    }
    // The console first: its type check and production build, which the app embeds.
    build_ui()?;
    run(Command::new("npm")
        .args(["test"])
        .current_dir(root().join("ui"))
        .env("NO_COLOR", "1"))?;
    // The event list with 50,000 rows in real Chromium: fails on a page error or when rows
    // outside the view reach the page; prints the frame times (not judged: machines are noisy).
    run(Command::new("node")
        .args(["bench/event-list.mjs", "--seconds", "1"])
        .current_dir(root().join("ui")))?;
    run(cargo().args(["fmt", "--all", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // Every crate's tests and the app's end-to-end tests (they drive the real app through
    // tauri-driver and WebKitWebDriver under Xvfb, one at a time).
    run(cargo()
        .args(["test", "--workspace", "--no-fail-fast"])
        .env("XDG_RUNTIME_DIR", runtime_dir()?))?;
    // The packages: built, inspected, the .deb installed and its binaries run.
    let (deb, rpm) = package::build()?;
    package::verify(&deb, &rpm)
}

/// The binaries the demo runs and the packages ship, built as one set (one feature
/// resolution, so the demo and the packages share every artifact).
fn build_bins() -> Result<()> {
    run(cargo().args([
        "build",
        "-p",
        "sim",
        "-p",
        "media",
        "-p",
        "wall",
        "-p",
        "hub",
        "-p",
        "watchfloor",
        "--bins",
    ]))
}

/// `npm run build` in `ui/`: the console the app embeds (`ui/dist`).
fn build_ui() -> Result<()> {
    run(Command::new("npm")
        .args(["run", "build"])
        .current_dir(root().join("ui"))
        .env("NO_COLOR", "1"))
}

/// A private runtime folder for the tests: the Vulkan loader's window-system probes want one,
/// and CI (root, no login session) has none.
pub(crate) fn runtime_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| Path::new(d).is_dir()) {
        return Ok(PathBuf::from(dir));
    }
    // One per user, reused by every run, so runs leave nothing new behind.
    let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
    let dir = std::env::temp_dir().join(format!("watchfloor-runtime-{user}"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot restrict {}: {e}", dir.display()))?;
    }
    Ok(dir)
}

/// Where the demo keeps its hub database, keys and the demo guard's password.
fn demo_dir() -> Result<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .ok_or("neither XDG_DATA_HOME nor HOME is set")?;
    let dir = base.join("watchfloor").join("demo");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// A random password for the demo guard, made once and kept readable by this user only.
fn demo_password(dir: &Path) -> Result<(PathBuf, bool)> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join("guard.password");
    if path.exists() {
        return Ok((path, false));
    }
    let mut bytes = [0u8; 12];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
    let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, password.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok((path, true))
}

/// A child process that is stopped (SIGTERM via `kill`, then reaped) when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

fn demo(args: &[String]) -> Result<()> {
    build_ui()?;
    build_bins()?;
    let bin = target_dir().join("debug");
    let data = demo_dir()?;
    let site = root().join("crates/site/demo/site.json");
    let hub = |args: &[&str]| {
        let mut command = Command::new(bin.join("watchfloor-hub"));
        command
            .args(args)
            .env(
                "WATCHFLOOR_HUB_DB",
                format!("sqlite://{}/hub.db", data.display()),
            )
            .env("WATCHFLOOR_HUB_DATA", &data);
        command
    };
    // The hub's configuration is written while the hub is stopped (one process owns the
    // database): the site, the demo guard, and the source the simulator's doors post as.
    let site_arg = site.to_string_lossy().into_owned();
    run(&mut hub(&["site-import", "--site", &site_arg]))?;
    let (password, new) = demo_password(&data)?;
    // A guard for the app, a manager for the browser console; one demo password. A demo
    // folder from before the browser console has the guard only.
    let manager_added = data.join("manager.added");
    for (user, name) in [("guard", "Demo guard"), ("manager", "Demo manager")] {
        let missing = if user == "guard" {
            new
        } else {
            new || !manager_added.exists()
        };
        if missing {
            run(&mut hub(&[
                "user-add",
                "--username",
                user,
                "--display-name",
                name,
                "--role",
                user,
                "--password-file",
                &password.to_string_lossy(),
            ]))?;
        }
    }
    std::fs::write(&manager_added, "")
        .map_err(|e| format!("cannot write {}: {e}", manager_added.display()))?;
    let secret = data.join("doors.secret");
    let _ = std::fs::remove_file(&secret);
    run(&mut hub(&[
        "source-add",
        "--id",
        "demo-doors",
        "--site",
        "demo-hq",
        "--secret-file",
        &secret.to_string_lossy(),
    ]))?;
    let cert = data.join("tls/cert.pem");
    run(&mut hub(&["tls-self-signed"]))?;
    let mut sim = Command::new(bin.join("watchfloor-sim"));
    sim.args([
        "--site",
        &site_arg,
        "--rtsp-port",
        "8554",
        "--control-port",
        "8555",
    ])
    .args([
        "--hub",
        "https://127.0.0.1:8443",
        "--hub-source",
        "demo-doors",
    ])
    .arg("--hub-secret-file")
    .arg(&secret)
    .arg("--hub-ca")
    .arg(&cert)
    .args(args)
    .current_dir(root());
    eprintln!("+ {sim:?}");
    let _sim = Child(
        sim.spawn()
            .map_err(|e| format!("cannot start the simulator: {e}"))?,
    );
    wait_for_port(8555)?;
    run(&mut hub(&[
        "site-import",
        "--site",
        &site_arg,
        "--streams-from",
        "http://127.0.0.1:8555",
    ]))?;
    // The simulator's door events queue until the hub is up, then arrive signed over TLS.
    let _hub = Child(
        hub(&["serve", "--listen", "127.0.0.1:8443"])
            .arg("--console")
            .arg(root().join("ui/dist"))
            .spawn()
            .map_err(|e| format!("cannot start the hub: {e}"))?,
    );
    wait_for_port(8443)?;
    eprintln!(
        "hub: https://127.0.0.1:8443 (certificate {}), user `guard`, password in {}\n\
         browser console for managers: https://127.0.0.1:8443/ (user `manager`, same password)",
        cert.display(),
        password.display()
    );
    // On a desktop (or under Xvfb), the app signed in as the demo guard, the site's sixteen
    // cameras on a 4x4 wall; without a display, their health in the terminal.
    if std::env::var_os("DISPLAY").is_some() {
        let profile = data.join("app");
        let mut app = Command::new(bin.join("watchfloor"));
        app.arg("--profile")
            .arg(&profile)
            .args(["--hub", "https://127.0.0.1:8443", "--username", "guard"])
            .arg("--hub-ca")
            .arg(&cert)
            .arg("--password-file")
            .arg(&password)
            .args(["--show-site", "demo-hq"])
            .env("XDG_RUNTIME_DIR", runtime_dir()?);
        // Without a session bus (Xvfb, a bare X server), WebKit starts its own D-Bus daemons
        // that outlive the app: give the app a session bus that ends with it.
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            // No desktop session, so no screen reader: GTK's accessibility bus would outlive it.
            app.env("NO_AT_BRIDGE", "1");
            let mut wrapped = Command::new("dbus-run-session");
            wrapped
                .arg("--")
                .arg(app.get_program())
                .args(app.get_args());
            for (key, value) in app.get_envs() {
                if let Some(value) = value {
                    wrapped.env(key, value);
                }
            }
            app = wrapped;
        }
        // Closing the app (or Ctrl-C) ends the demo; the simulator and the hub stop with it.
        eprintln!("+ {app:?}");
        let status = app
            .status()
            .map_err(|e| format!("cannot start the app: {e}"))?;
        eprintln!("the app ended ({status}); stopping the hub and the simulator");
        Ok(())
    } else {
        let urls: Vec<String> = (1..=16)
            .map(|n| format!("rtsp://127.0.0.1:8554/cam{n:02}/sub"))
            .collect();
        eprintln!("no DISPLAY: printing stream health instead of opening the app");
        run(Command::new(bin.join("watchfloor-probe")).args(&urls))
    }
}

/// Runs `command` and returns what it printed; fails with what it said on stderr.
fn output(command: &mut Command) -> Result<String> {
    let out = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn wait_for_port(port: u16) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err(format!("nothing listens on 127.0.0.1:{port} after 30 s"))
}

/// Writes the files the UI takes from the Rust crates; a wall test fails when they drift.
fn codegen() -> Result<()> {
    let presets = output(cargo().args([
        "run",
        "--quiet",
        "-p",
        "wall",
        "--bin",
        "watchfloor-wall",
        "--",
        "presets",
    ]))?;
    let path = root().join("ui/src/generated/presets.json");
    std::fs::write(&path, presets).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn bench(args: &[String]) -> Result<()> {
    // The benchmarks start the simulator as a process of its own.
    run(cargo().args(["build", "--release", "-p", "sim"]))?;
    run(cargo()
        .args(["bench", "-p", "media", "--bench", "decode_cost", "--"])
        .args(args))?;
    run(cargo()
        .args(["bench", "-p", "wall", "--bench", "wall_cost", "--"])
        .args(args)
        .env("XDG_RUNTIME_DIR", runtime_dir()?))?;
    run(cargo()
        .args(["bench", "-p", "hub", "--bench", "hub_throughput", "--"])
        .args(args))?;
    // The console's event list with 50,000 rows in Chromium: frame times while scrolling.
    build_ui()?;
    run(Command::new("node")
        .arg("bench/event-list.mjs")
        .current_dir(root().join("ui")))
}
