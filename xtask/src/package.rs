//! `cargo xtask package`: the Linux packages (.deb and .rpm) of the app, and the checks the
//! test command runs on them: name, version, dependencies, desktop entry, icons, binaries; then
//! the .deb installed into a minimal root made for the purpose, where apt installed only what
//! it declares ([`crate::clean_root`]; never this machine, whose earlier installs would hide a
//! missing dependency), and the installed binaries run there ([`installed`], xtask's own
//! binary copied in):
//! `watchfloor --version`, the desktop entry, a headless wall snapshot of the installed
//! simulator's live cameras, and the embedded demo from the installed hub, simulator and demo
//! site.
//!
//! The packages are built from the same debug binaries as the demo (`tauri bundle` after our
//! own `cargo build`), so they cost a bundling step, not another build. Release packages:
//! see "Install" in the README.

use crate::{Result, output, root, run, target_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The binaries the packages ship beside the app: the wall's and the media engine's command
/// lines, for IT (snapshots, stream health), and the hub, the simulator and the recorder that
/// the embedded demo runs on a first start (and a site runs as services).
const TOOLS: &[&str] = &[
    "watchfloor-wall",
    "watchfloor-probe",
    "watchfloor-hub",
    "watchfloor-sim",
    "watchfloor-recorder",
];

/// What a server needs beside its binary, from `deploy/`: the hardened systemd units (not
/// enabled: IT decides which machine runs which service) and the documented configuration
/// files, as examples.
const DEPLOY: &[(&str, &str)] = &[
    (
        "/usr/lib/systemd/system/watchfloor-hub.service",
        "deploy/hub/watchfloor-hub.service",
    ),
    (
        "/usr/lib/systemd/system/watchfloor-recorder.service",
        "deploy/recorder/watchfloor-recorder.service",
    ),
    (
        "/usr/share/doc/watchfloor/examples/hub.toml",
        "deploy/hub/hub.toml",
    ),
    (
        "/usr/share/doc/watchfloor/examples/recorder.toml",
        "deploy/recorder/recorder.toml",
    ),
];

/// Where the .deb and .rpm put the app's resources (the demo site).
const RESOURCES: &str = "/usr/lib/Watchfloor";

/// Builds the binaries (the demo's set) and bundles them; returns the .deb and the .rpm.
pub fn build() -> Result<(PathBuf, PathBuf)> {
    crate::build_ui()?;
    crate::build_bins()?;
    let bin = target_dir().join("debug");
    let files: serde_like::Map = TOOLS
        .iter()
        .map(|t| {
            (
                format!("/usr/bin/{t}"),
                bin.join(t).to_string_lossy().into_owned(),
            )
        })
        .chain(DEPLOY.iter().map(|(installed, source)| {
            (
                (*installed).to_owned(),
                root().join(source).to_string_lossy().into_owned(),
            )
        }))
        .collect();
    let files = serde_like::object(&files);
    let config = format!(
        "{{\"bundle\":{{\"linux\":{{\"deb\":{{\"files\":{files}}},\"rpm\":{{\"files\":{files}}}}}}}}}"
    );
    let bundles = bin.join("bundle");
    let _ = std::fs::remove_dir_all(&bundles);
    // The Tauri CLI that npm ships prebuilt (a dev dependency of the console, pinned by its
    // lock file); `cargo install tauri-cli` would compile for a quarter of an hour.
    let tauri = root().join("ui/node_modules/.bin/tauri");
    run(Command::new(&tauri)
        .env("CARGO_TARGET_DIR", target_dir())
        .args(["bundle", "--debug", "--bundles", "deb,rpm", "--config"])
        .arg(&config)
        .current_dir(root().join("src-tauri")))?;
    Ok((
        only_file(&bundles.join("deb"), "deb")?,
        only_file(&bundles.join("rpm"), "rpm")?,
    ))
}

/// The one file with extension `ext` in `dir`.
fn only_file(dir: &Path, ext: &str) -> Result<PathBuf> {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("no bundle folder {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        other => Err(format!(
            "expected one .{ext} in {}, found {other:?}",
            dir.display()
        )),
    }
}

fn check(what: &str, ok: bool, detail: &str) -> Result<()> {
    if ok {
        eprintln!("package: {what}: ok");
        Ok(())
    } else {
        Err(format!("package: {what}: {detail}"))
    }
}

/// The workspace version (xtask shares it, and cargo rebuilds xtask when it changes); also
/// known inside the clean root, where there is no checkout.
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The Windows and macOS icons the other platforms' bundles take (built elsewhere, checked
/// here): an .ico with every size Windows shows, an .icns with PNGs up to 512 px.
fn check_platform_icons() -> Result<()> {
    let read = |name: &str| {
        let path = crate::root().join("icons").join(name);
        std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let ico = read("icon.ico")?;
    let count = ico.get(4..6).map(|b| u16::from_le_bytes([b[0], b[1]]));
    check(
        "icons/icon.ico holds 16 to 256 px",
        ico.starts_with(&[0, 0, 1, 0]) && count == Some(6),
        &format!("{count:?} images"),
    )?;
    let icns = read("icon.icns")?;
    let length = icns
        .get(4..8)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    check(
        "icons/icon.icns is whole, with a 512 px image",
        icns.starts_with(b"icns")
            && length == Some(icns.len())
            && icns.windows(4).any(|w| w == b"ic09"),
        &format!("{} bytes", icns.len()),
    )
}

/// Inspects both packages, installs the .deb in a clean root and runs what it installed there.
pub fn verify(deb: &Path, rpm: &Path) -> Result<()> {
    check_platform_icons()?;
    let version = version();
    let field = |name: &str| output(Command::new("dpkg-deb").arg("--field").arg(deb).arg(name));
    let name = field("Package")?;
    check("deb name", name.trim() == "watchfloor", &name)?;
    let deb_version = field("Version")?;
    check("deb version", deb_version.trim() == version, &deb_version)?;
    let depends = field("Depends")?;
    for needed in [
        "libwebkit2gtk-4.1-0",
        "gstreamer1.0-plugins-good",
        "gstreamer1.0-libav",
        "libvulkan1",
    ] {
        check(
            &format!("deb depends on {needed}"),
            depends.contains(needed),
            &depends,
        )?;
    }
    let contents = output(Command::new("dpkg-deb").arg("--contents").arg(deb))?;
    let mut wanted = vec![
        "usr/bin/watchfloor\n".to_owned(),
        "usr/share/applications/Watchfloor.desktop".to_owned(),
    ];
    wanted.extend(
        ["32x32", "64x64", "128x128", "256x256", "512x512"]
            .iter()
            .map(|size| format!("usr/share/icons/hicolor/{size}/apps/watchfloor.png")),
    );
    wanted.extend(TOOLS.iter().map(|t| format!("usr/bin/{t}\n")));
    wanted.push(format!("{}/demo/site.json\n", &RESOURCES[1..]));
    wanted.push(format!("{}/demo/plans/ground.svg\n", &RESOURCES[1..]));
    for path in &wanted {
        check(
            &format!("deb holds {}", path.trim_end()),
            contents.contains(path.as_str()),
            &contents,
        )?;
    }
    let rpm_id = output(
        Command::new("rpm")
            .args(["-qp", "--queryformat", "%{NAME} %{VERSION}"])
            .arg(rpm),
    )?;
    check(
        "rpm name and version",
        rpm_id.trim() == format!("watchfloor {version}"),
        &rpm_id,
    )?;
    let requires = output(Command::new("rpm").args(["-qpR"]).arg(rpm))?;
    check(
        "rpm requires webkit2gtk4.1",
        requires.contains("webkit2gtk4.1"),
        &requires,
    )?;
    let files = output(Command::new("rpm").args(["-qpl"]).arg(rpm))?;
    let mut wanted: Vec<String> = TOOLS.iter().map(|t| format!("/usr/bin/{t}")).collect();
    wanted.extend(DEPLOY.iter().map(|(installed, _)| (*installed).to_owned()));
    wanted.extend([
        "/usr/bin/watchfloor".to_owned(),
        "/usr/share/applications/Watchfloor.desktop".to_owned(),
        format!("{RESOURCES}/demo/site.json"),
    ]);
    for path in &wanted {
        check(
            &format!("rpm holds {path}"),
            files.lines().any(|l| l == path),
            &files,
        )?;
    }

    // Installed for real where nothing else is: apt resolves only what the package declares.
    let root =
        crate::clean_root::CleanRoot::fresh(&target_dir().join("clean-root"), depends.trim())?;
    root.install(deb)?;
    let xtask = std::env::current_exe().map_err(|e| format!("xtask's own path: {e}"))?;
    root.copy_in(&xtask, "/usr/local/bin/watchfloor-installed-check")?;
    let outcome = root.run(&["watchfloor-installed-check", "installed-check"]);
    // Keep the wall snapshot where a person can look at it.
    let picture = target_dir().join("clean-root/installed-wall.png");
    if std::fs::copy(root.path(INSTALLED_WALL), &picture).is_ok() {
        eprintln!(
            "package: the installed wall's snapshot: {}",
            picture.display()
        );
    }
    outcome
}

/// Where the installed check leaves its wall snapshot (inside the clean root).
const INSTALLED_WALL: &str = "/tmp/watchfloor-installed-wall.png";

/// The checks of an installed .deb, run where it is installed (`xtask installed-check` inside
/// the clean root): what a user and the embedded demo would run.
pub fn installed() -> Result<()> {
    let version = version();
    let shown = output(Command::new("/usr/bin/watchfloor").arg("--version"))?;
    check(
        "installed watchfloor --version",
        shown.trim() == format!("watchfloor {version}"),
        &shown,
    )?;
    let desktop = std::fs::read_dir("/usr/share/applications")
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().to_lowercase().contains("watchfloor"))
        .ok_or("no desktop entry installed")?;
    let entry = std::fs::read_to_string(&desktop).map_err(|e| e.to_string())?;
    for line in [
        "Exec=watchfloor",
        "Icon=watchfloor",
        "Name=Watchfloor",
        "Type=Application",
    ] {
        check(
            &format!("desktop entry has {line}"),
            entry.lines().any(|l| l == line),
            &entry,
        )?;
    }
    snapshot_with_installed_wall()?;
    demo_with_installed_binaries()
}

/// The embedded demo as a first start runs it: the installed hub and simulator, the installed
/// demo site, on free ports; the hub answers and the simulator's cameras are imported.
fn demo_with_installed_binaries() -> Result<()> {
    let data = std::env::temp_dir().join(format!("watchfloor-package-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let places = demo::DemoPlaces {
        bin_dir: PathBuf::from("/usr/bin"),
        site: PathBuf::from(format!("{RESOURCES}/demo/site.json")),
        data: data.clone(),
        console: None,
        sim_args: Vec::new(),
    };
    let ports = demo::DemoPorts::free().map_err(|e| e.to_string())?;
    let started = demo::DemoStack::start(&places, ports, &|step| eprintln!("{step}"));
    let outcome = started.map(drop).map_err(|e| e.to_string());
    let _ = std::fs::remove_dir_all(&data);
    check(
        "the installed hub and simulator run the embedded demo",
        outcome.is_ok(),
        &format!("{outcome:?}"),
    )
}

/// The installed simulator serves the installed demo site's cameras; the installed
/// `watchfloor-wall` snapshots four of them offscreen once each tile is live.
fn snapshot_with_installed_wall() -> Result<()> {
    let runtime = crate::runtime_dir()?;
    let (rtsp, control) = free_ports()?;
    let site = format!("{RESOURCES}/demo/site.json");
    let mut sim = Command::new("/usr/bin/watchfloor-sim")
        .arg("--site")
        .arg(&site)
        .args([
            "--rtsp-port",
            &rtsp.to_string(),
            "--control-port",
            &control.to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let out = PathBuf::from(INSTALLED_WALL);
    let result = Command::new("/usr/bin/watchfloor-wall")
        .args(["snapshot", "--layout", "2x2", "--size", "640x360", "--sim"])
        .arg(format!("http://127.0.0.1:{control}"))
        .arg("--out")
        .arg(&out)
        .env("XDG_RUNTIME_DIR", &runtime)
        .output();
    let _ = sim.kill();
    let _ = sim.wait();
    let result = result.map_err(|e| format!("cannot run the installed watchfloor-wall: {e}"))?;
    let said = String::from_utf8_lossy(&result.stderr);
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    // It names each tile's camera with its stream state once every tile had a picture.
    let live = said
        .lines()
        .filter(|l| l.split_whitespace().rev().nth(2) == Some("live"))
        .count();
    check(
        "installed watchfloor-wall snapshot of simulator cameras, four tiles live",
        result.status.success() && live == 4 && !said.contains("timed out") && size > 0,
        &said,
    )
}

/// Two different free ports (both held until both are known).
fn free_ports() -> Result<(u16, u16)> {
    let bind =
        || std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"));
    let (a, b) = (bind()?, bind()?);
    let port =
        |l: &std::net::TcpListener| l.local_addr().map(|a| a.port()).map_err(|e| e.to_string());
    Ok((port(&a)?, port(&b)?))
}

/// Just enough JSON for the bundler's `--config` (xtask has no dependencies).
mod serde_like {
    pub type Map = Vec<(String, String)>;

    fn string(text: &str) -> String {
        let escaped: String = text
            .chars()
            .flat_map(|c| match c {
                '"' => vec!['\\', '"'],
                '\\' => vec!['\\', '\\'],
                c => vec![c],
            })
            .collect();
        format!("\"{escaped}\"")
    }

    pub fn object(map: &Map) -> String {
        let fields: Vec<String> = map
            .iter()
            .map(|(k, v)| format!("{}:{}", string(k), string(v)))
            .collect();
        format!("{{{}}}", fields.join(","))
    }
}
