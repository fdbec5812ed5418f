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

mod clean_root;
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
        "test" => test(rest),
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
        // Run by `package --check` inside the clean root where it installed the .deb.
        "installed-check" => package::installed(),
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

/// Runs `cargo test`, passing its output through, and when it fails says again, at the very
/// end, what each failed test reported: a long run's output is often read from its tail only
/// (CI keeps a part), and a failure's report scrolls far up among the other crates' results.
fn run_tests(command: &mut Command) -> Result<()> {
    use std::io::{BufRead, BufReader, Write};
    eprintln!("+ {command:?}");
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    let mut reports = FailureReports::default();
    if let Some(stdout) = child.stdout.take() {
        let mut reader = BufReader::new(stdout);
        let mut line = Vec::new();
        let mut out = std::io::stdout();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {
                    // Passing the output through is best effort: a closed terminal must not
                    // stop the tests.
                    let _ = out.write_all(&line).and_then(|()| out.flush());
                    reports.read(String::from_utf8_lossy(&line).trim_end());
                }
                Err(e) => {
                    eprintln!("xtask: cannot read the tests' output any more: {e}");
                    break;
                }
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("cannot wait for {command:?}: {e}"))?;
    if status.success() {
        return Ok(());
    }
    Err(format!("{command:?} failed: {status}{}", reports.summary()))
}

/// The failed tests' own reports, gathered from libtest's `failures:` blocks: a block names
/// each failed test (`---- name stdout ----`) above what it printed, then lists the names under
/// a second `failures:`, then ends with `test result:`.
#[derive(Default)]
struct FailureReports {
    /// Where in a block the output stands.
    at: BlockPart,
    /// Inside a panic's backtrace (left out).
    in_backtrace: bool,
    /// Each failed test's name and the last lines of what it printed.
    tests: Vec<(String, std::collections::VecDeque<String>)>,
}

#[derive(Default, PartialEq)]
enum BlockPart {
    #[default]
    Outside,
    Reports,
    Names,
}

impl FailureReports {
    /// The lines kept of each failed test's report (its panic message comes last).
    const LINES_PER_TEST: usize = 40;
    /// At most this many tests are reported again; the rest are named only.
    const TESTS: usize = 6;

    fn read(&mut self, line: &str) {
        if line.starts_with("test result:") {
            self.at = BlockPart::Outside;
        } else if line == "failures:" {
            self.at = match self.at {
                BlockPart::Outside => BlockPart::Reports,
                _ => BlockPart::Names,
            };
        } else if self.at == BlockPart::Names {
            // A failed test that printed nothing has no report above: named at least.
            let name = line.trim();
            if !name.is_empty() && !self.tests.iter().any(|(known, _)| known == name) {
                self.tests.push((name.to_string(), Default::default()));
            }
        } else if self.at == BlockPart::Reports {
            if let Some(name) = line
                .strip_prefix("---- ")
                .and_then(|rest| rest.strip_suffix(" stdout ----"))
            {
                self.tests.push((name.to_string(), Default::default()));
            } else if line == "stack backtrace:" {
                // Its frames would push the panic message out of the lines kept.
                self.in_backtrace = true;
            } else if self.in_backtrace && line.starts_with(' ') {
                // One of its frames: left out.
            } else if let Some((_, lines)) = self.tests.last_mut() {
                self.in_backtrace = false;
                lines.push_back(line.to_string());
                if lines.len() > Self::LINES_PER_TEST {
                    lines.pop_front();
                }
            }
        }
    }

    fn summary(&self) -> String {
        let mut text = String::new();
        for (shown, (name, lines)) in self.tests.iter().enumerate() {
            if shown >= Self::TESTS {
                text.push_str(&format!("\n  also failed: {name}"));
                continue;
            }
            text.push_str(&format!("\n---- {name} (its last lines) ----"));
            for line in lines {
                text.push_str(&format!("\n{line}"));
            }
        }
        if !text.is_empty() {
            text.insert_str(0, "\nxtask: what the failed tests reported:");
        }
        text
    }
}

fn test(args: &[String]) -> Result<()> {
    if !args.is_empty() {
        return Err(format!("`test` takes no arguments, got {args:?}"));
    }
    let mut phases = Phases::default();
    let outcome = test_phases(&mut phases);
    phases.report();
    outcome
}

/// What the tests need free on the target folder's disk: builds, recordings, databases.
const TEST_FREE_BYTES: u64 = 6 << 30;

/// Bytes free on the file system holding `dir` (`df`), if it says.
fn free_bytes(dir: &Path) -> Option<u64> {
    let output = Command::new("df").arg("-Pk").arg(dir).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let kib: u64 = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// A full disk makes recorders delete their video and databases refuse writes: tests then fail
/// far from the cause. Say it first.
fn enough_disk() -> Result<()> {
    let target = target_dir();
    let _ = std::fs::create_dir_all(&target);
    match free_bytes(&target) {
        Some(free) if free < TEST_FREE_BYTES => Err(format!(
            "only {:.1} GiB free on the disk of {} ({:.0} GiB needed): free some space (an old \
             `target/` folder of a checkout, or this target folder's `debug/incremental`)",
            free as f64 / f64::from(1u32 << 30),
            target.display(),
            TEST_FREE_BYTES as f64 / f64::from(1u32 << 30),
        )),
        _ => Ok(()),
    }
}

fn test_phases(phases: &mut Phases) -> Result<()> {
    phases.time("disk", enough_disk)?;
    phases.time("set-up", setup::all)?;
    // The console first: its type check and production build, which the app embeds.
    phases.time("console build", build_ui)?;
    phases.time("console tests", || {
        run(Command::new("npm")
            .args(["test"])
            .current_dir(root().join("ui"))
            .env("NO_COLOR", "1"))?;
        // The event list with 50,000 rows in real Chromium: fails on a page error or when
        // rows outside the view reach the page; prints the frame times (not judged: machines
        // are noisy).
        run(Command::new("node")
            .args(["bench/event-list.mjs", "--seconds", "1"])
            .current_dir(root().join("ui")))
    })?;
    phases.time("fmt", || run(cargo().args(["fmt", "--all", "--check"])))?;
    phases.time("clippy", || {
        run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    // Every crate's tests and the app's end-to-end tests (they drive the real app through
    // tauri-driver and WebKitWebDriver under Xvfb, one at a time).
    phases.time("rust tests", || {
        run_tests(
            cargo()
                .args(["test", "--workspace", "--no-fail-fast"])
                .env("XDG_RUNTIME_DIR", runtime_dir()?),
        )
    })?;
    // The packages: built, inspected, the .deb installed and its binaries run.
    let (deb, rpm) = phases.time("packages built", package::build)?;
    phases.time("packages checked", || package::verify(&deb, &rpm))
}

/// How long each phase of a long command took, printed at its end (also when it failed), so
/// a slow first run says where its time went.
#[derive(Default)]
struct Phases {
    done: Vec<(&'static str, std::time::Duration, bool)>,
}

impl Phases {
    fn time<T>(&mut self, name: &'static str, phase: impl FnOnce() -> Result<T>) -> Result<T> {
        let started = std::time::Instant::now();
        let outcome = phase();
        self.done.push((name, started.elapsed(), outcome.is_ok()));
        outcome
    }

    fn report(&self) {
        let total: std::time::Duration = self.done.iter().map(|(_, took, _)| *took).sum();
        eprintln!("\nxtask: where the time went");
        for (name, took, ok) in &self.done {
            let mark = if *ok { "" } else { "  (failed)" };
            eprintln!("  {name:<18} {:>6.0} s{mark}", took.as_secs_f64());
        }
        eprintln!("  {:<18} {:>6.0} s", "total", total.as_secs_f64());
    }
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
        "recorder",
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

fn demo(args: &[String]) -> Result<()> {
    build_ui()?;
    build_bins()?;
    let bin = target_dir().join("debug");
    let places = demo::DemoPlaces {
        bin_dir: bin.clone(),
        site: root().join("crates/site/demo/site.json"),
        data: demo_dir()?,
        console: Some(root().join("ui/dist")),
        sim_args: args.to_vec(),
    };
    // The hub, the simulator and the recorder stop when `stack` drops: after the app, or on
    // an error.
    let stack = demo::DemoStack::start(&places, demo::DemoPorts::STANDARD, &|step| {
        eprintln!("{step}")
    })
    .map_err(|e| e.to_string())?;
    let (cert, password) = (&stack.certificate, &stack.password_file);
    eprintln!(
        "hub: {} (certificate {}), user `guard`, password in {}\n\
         browser console for managers: {}/ (user `manager`, same password)\n\
         recorder: restream on {}, `watchfloor-recorder status --config {}`",
        stack.hub_url,
        cert.display(),
        password.display(),
        stack.hub_url,
        stack.recorder_url,
        stack.recorder_config.display(),
    );
    // On a desktop (or under Xvfb), the app signed in as the demo guard, the site's sixteen
    // cameras on a 4x4 wall; without a display, their health in the terminal.
    if std::env::var_os("DISPLAY").is_some() {
        let profile = places.data.join("app");
        let mut app = Command::new(bin.join("watchfloor"));
        app.arg("--profile")
            .arg(&profile)
            .args(["--hub", &stack.hub_url, "--username", "guard"])
            .arg("--hub-ca")
            .arg(cert)
            .arg("--password-file")
            .arg(password)
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
        // The cameras ask for a password only the recorder holds: what it records is the
        // site's health.
        eprintln!("no DISPLAY: printing what the recorder records instead of opening the app");
        loop {
            run(Command::new(bin.join("watchfloor-recorder"))
                .arg("status")
                .arg("--config")
                .arg(&stack.recorder_config))?;
            std::thread::sleep(std::time::Duration::from_secs(10));
        }
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

/// Writes the files the UI takes from the Rust crates; a wall test fails when they drift.
fn codegen() -> Result<()> {
    // Each generated file has a drift test named `generated_*` beside the code it comes from;
    // with WATCHFLOOR_CODEGEN=write those tests write the files instead of comparing.
    run(cargo().env("WATCHFLOOR_CODEGEN", "write").args([
        "test",
        "-p",
        "contract",
        "-p",
        "wall",
        "-p",
        "app",
        "--",
        "generated_",
    ]))
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
    run(cargo()
        .args(["bench", "-p", "recorder", "--bench", "record_cost", "--"])
        .args(args))?;
    run(cargo()
        .args(["bench", "-p", "app", "--bench", "replay_latency", "--"])
        .args(args)
        .env("XDG_RUNTIME_DIR", runtime_dir()?))?;
    // The console's event list with 50,000 rows in Chromium: frame times while scrolling.
    build_ui()?;
    run(Command::new("node")
        .arg("bench/event-list.mjs")
        .current_dir(root().join("ui")))
}

#[cfg(test)]
mod tests {
    use super::FailureReports;

    #[test]
    fn a_failed_tests_report_is_said_again_without_the_passing_output_around_it() {
        let output = "\
running 2 tests
test replay::fine ... ok
test replay::broken ... FAILED

failures:

---- replay::broken stdout ----
frames seen: 12
thread 'replay::broken' panicked at tests/replay.rs:10:5:
no frame lost following: 51 frames apart
stack backtrace:
   0: __rustc::rust_begin_unwind
             at /rustc/library/std/src/panicking.rs:689:5
note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.

failures:
    replay::broken
    replay::silent

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out

running 1 test
test other ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out";
        let mut reports = FailureReports::default();
        output.lines().for_each(|line| reports.read(line));
        let summary = reports.summary();
        assert!(summary.contains("---- replay::broken (its last lines) ----"));
        assert!(summary.contains("no frame lost following: 51 frames apart"));
        assert!(summary.contains("frames seen: 12"));
        assert!(!summary.contains("    replay::broken"), "{summary}");
        assert!(
            summary.contains("---- replay::silent (its last lines) ----"),
            "{summary}"
        );
        assert_eq!(
            summary.matches("---- replay::broken").count(),
            1,
            "{summary}"
        );
        assert!(!summary.contains("test other"), "{summary}");
        assert!(!summary.contains("rust_begin_unwind"), "{summary}");
        assert!(FailureReports::default().summary().is_empty());
    }
}
