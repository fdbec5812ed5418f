//! Brings a Debian 12 / Ubuntu 22.04+ machine to a working state, installing only what is
//! missing: system packages through apt, Node packages through `npm ci`, pinned cargo tools.
//! Run again, it installs nothing and returns in about a second.

use crate::{Result, root, run};
use std::path::Path;
use std::process::Command;

/// System packages, by what needs them: one a line, `#` comments. Debian 12 names; Ubuntu
/// 22.04+ shares them except Chromium (see [`chromium_package`]).
const APT_PACKAGES: &str = include_str!("../apt-packages.txt");

/// The package names in [`APT_PACKAGES`].
fn apt_packages() -> impl Iterator<Item = &'static str> {
    APT_PACKAGES
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|name| !name.is_empty())
}

/// Pinned cargo-installed tools: (crate, version, binary).
const CARGO_TOOLS: &[(&str, &str, &str)] = &[("tauri-driver", "2.1.0", "tauri-driver")];

pub fn all() -> Result<()> {
    system_packages()?;
    node_packages()?;
    cargo_tools()?;
    Ok(())
}

fn chromium_package() -> &'static str {
    let os = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    if os.lines().any(|l| l == "ID=ubuntu") {
        "chromium-browser"
    } else {
        "chromium"
    }
}

fn system_packages() -> Result<()> {
    if !cfg!(target_os = "linux") {
        eprintln!("setup: not Linux; install the system packages as the README describes");
        return Ok(());
    }
    if Command::new("dpkg-query")
        .arg("--version")
        .output()
        .is_err()
    {
        return Err("setup: no dpkg-query; this set-up knows Debian and Ubuntu only".into());
    }
    let mut wanted: Vec<&str> = apt_packages().collect();
    wanted.push(chromium_package());
    let missing = missing_packages(&wanted)?;
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!(
        "setup: installing {} system packages: {}",
        missing.len(),
        missing.join(" ")
    );
    let sudo = !is_root();
    let apt = |args: &[&str]| {
        let mut command = if sudo {
            Command::new("sudo")
        } else {
            Command::new("apt-get")
        };
        if sudo {
            command.arg("apt-get");
        }
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    run(&mut apt(&["update", "-q"]))?;
    let mut install = apt(&["install", "-y", "-q", "--no-install-recommends"]);
    install.args(&missing);
    run(&mut install)?;
    let still = missing_packages(&wanted)?;
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!("setup: apt did not install {}", still.join(" ")))
    }
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The packages of `wanted` that dpkg does not list as installed.
fn missing_packages(wanted: &[&str]) -> Result<Vec<String>> {
    let output = Command::new("dpkg-query")
        .args(["-W", "-f=${Package} ${db:Status-Abbrev}\n"])
        .args(wanted)
        .output()
        .map_err(|e| format!("setup: dpkg-query: {e}"))?;
    let listed = String::from_utf8_lossy(&output.stdout);
    let installed: Vec<&str> = listed
        .lines()
        .filter_map(|line| {
            let (name, status) = line.split_once(' ')?;
            status.starts_with("ii").then_some(name)
        })
        .collect();
    Ok(wanted
        .iter()
        .filter(|name| !installed.contains(name))
        .map(|name| name.to_string())
        .collect())
}

/// `npm ci` in `ui/` when its lock file is newer than the installed tree.
fn node_packages() -> Result<()> {
    let ui = root().join("ui");
    let lock = ui.join("package-lock.json");
    if !lock.exists() {
        return Ok(());
    }
    let marker = ui.join("node_modules").join(".package-lock.json");
    if is_newer(&marker, &lock) {
        return Ok(());
    }
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&ui))
}

fn is_newer(a: &Path, b: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(a), modified(b)), (Some(a), Some(b)) if a >= b)
}

fn cargo_tools() -> Result<()> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .ok_or("setup: neither CARGO_HOME nor HOME is set")?;
    // cargo records what it installed; some tools (tauri-driver) have no --version.
    let installed = std::fs::read_to_string(cargo_home.join(".crates.toml")).unwrap_or_default();
    for (name, version, binary) in CARGO_TOOLS {
        let recorded = installed.contains(&format!("\"{name} {version} "));
        if !recorded || !cargo_home.join("bin").join(binary).exists() {
            // `--force`: a binary of that name that cargo did not record (another version, or
            // installed by other means) is replaced rather than stopping the set-up.
            run(Command::new("cargo").args([
                "install",
                "--locked",
                "--force",
                name,
                "--version",
                version,
            ]))?;
        }
    }
    Ok(())
}
