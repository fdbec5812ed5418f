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
  demo    set up, then run the demo: the simulated site (16 cameras, 8 doors) on a 4x4 wall
          window (stream health in the terminal when there is no display)
  test    set up, then run every check and test (fmt, clippy, Rust tests, UI tests and build)
  codegen regenerate what the UI takes from Rust (ui/src/generated/)
  setup   install what is missing: system packages (apt), Node packages (npm), pinned cargo tools
  bench   set up, then run the benchmarks (decode cost against gst-launch-1.0; the wall against
          bare decoding and GStreamer's compositor)";

/// The repository root (the parent of this crate's folder).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
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
    run(cargo().args(["fmt", "--all", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo()
        .args(["test", "--workspace", "--no-fail-fast"])
        .env("XDG_RUNTIME_DIR", runtime_dir()?))?;
    // The console: unit tests, then the type check and production build.
    let ui = root().join("ui");
    run(Command::new("npm")
        .args(["test"])
        .current_dir(&ui)
        .env("NO_COLOR", "1"))?;
    run(Command::new("npm")
        .args(["run", "build"])
        .current_dir(&ui)
        .env("NO_COLOR", "1"))?;
    Ok(())
}

/// A private runtime folder for the tests: the Vulkan loader's window-system probes want one,
/// and CI (root, no login session) has none.
fn runtime_dir() -> Result<PathBuf> {
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

fn demo(args: &[String]) -> Result<()> {
    run(cargo().args(["build", "-p", "sim", "-p", "media", "-p", "wall", "--bins"]))?;
    let bin = target_dir().join("debug");
    let mut sim = Command::new(bin.join("watchfloor-sim"));
    sim.args([
        "--site",
        "crates/site/demo/site.json",
        "--rtsp-port",
        "8554",
        "--control-port",
        "8555",
    ])
    .args(args)
    .current_dir(root());
    eprintln!("+ {sim:?}");
    let mut sim = sim
        .spawn()
        .map_err(|e| format!("cannot start the simulator: {e}"))?;
    // On a desktop, the site's sixteen cameras on a 4x4 wall (sub-streams, the main stream for
    // a maximised tile); without one, their health in the terminal.
    let shown = if std::env::var_os("DISPLAY").is_some() {
        run(Command::new(bin.join("watchfloor-wall"))
            .args(["show", "--layout", "4x4", "--sim", "http://127.0.0.1:8555"])
            .env("XDG_RUNTIME_DIR", runtime_dir()?))
    } else {
        let urls: Vec<String> = (1..=16)
            .map(|n| format!("rtsp://127.0.0.1:8554/cam{n:02}/sub"))
            .collect();
        eprintln!("no DISPLAY: printing stream health instead of opening the wall");
        run(Command::new(bin.join("watchfloor-probe")).args(&urls))
    };
    let _ = sim.kill();
    let _ = sim.wait();
    shown
}

/// Writes the files the UI takes from the Rust crates; a wall test fails when they drift.
fn codegen() -> Result<()> {
    let output = cargo()
        .args([
            "run",
            "--quiet",
            "-p",
            "wall",
            "--bin",
            "watchfloor-wall",
            "--",
            "presets",
        ])
        .output()
        .map_err(|e| format!("cannot run watchfloor-wall: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "watchfloor-wall presets failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let path = root().join("ui/src/generated/presets.json");
    std::fs::write(&path, &output.stdout)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
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
        .env("XDG_RUNTIME_DIR", runtime_dir()?))
}
