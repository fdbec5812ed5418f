//! The embedded demo: a hub on an SQLite file, a simulated site (sixteen RTSP cameras behind a
//! password, eight doors posting signed events to the hub) and a recorder (the one connection
//! to each camera, the only holder of their password, restreaming them to the clients the hub
//! gives tickets to) started as child processes of whoever asks: the app on a first start with
//! no hub, or `cargo xtask demo`. It runs the same binaries a site would (`watchfloor-hub`,
//! `watchfloor-sim`, `watchfloor-recorder`), so the demo shows the real thing.
//!
//! Standard library only (xtask builds it in seconds). It knows the hub's and the simulator's
//! command lines, nothing of their code.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// What went wrong, in words for the person who asked for the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoError(pub String);

impl std::fmt::Display for DemoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DemoError {}

type Result<T> = std::result::Result<T, DemoError>;

/// Where the demo's parts are and where it keeps its state.
#[derive(Debug, Clone)]
pub struct DemoPlaces {
    /// The folder holding `watchfloor-hub`, `watchfloor-sim` and `watchfloor-recorder`.
    pub bin_dir: PathBuf,
    /// The demo site's `site.json` (its floor plans beside it).
    pub site: PathBuf,
    /// The hub's database, key and certificate, the demo password, the doors' secret.
    pub data: PathBuf,
    /// The web console's built files for managers' browsers, when at hand.
    pub console: Option<PathBuf>,
    /// More arguments for the simulator (faults, event rates).
    pub sim_args: Vec<String>,
}

/// The ports the demo listens on (all on 127.0.0.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoPorts {
    pub hub: u16,
    pub rtsp: u16,
    pub control: u16,
    /// The recorder's restream.
    pub recorder: u16,
    /// The recorder's recorded video over HTTP (the hub fetches it for browsers).
    pub playback: u16,
}

impl DemoPorts {
    /// The documented ports of `cargo xtask demo`.
    pub const STANDARD: Self = Self {
        hub: 8443,
        rtsp: 8554,
        control: 8555,
        recorder: 8556,
        playback: 8557,
    };

    /// Four ports free now (the app's demo must not collide with anything running).
    pub fn free() -> Result<Self> {
        let one = || -> Result<u16> {
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .map_err(|e| DemoError(format!("no free port on 127.0.0.1: {e}")))
        };
        Ok(Self {
            hub: one()?,
            rtsp: one()?,
            control: one()?,
            recorder: one()?,
            playback: one()?,
        })
    }
}

/// A running demo; dropping it stops the simulator and the hub.
#[derive(Debug)]
pub struct DemoStack {
    sim: Option<Kept>,
    recorder: Option<Kept>,
    hub: Option<Kept>,
    pub hub_url: String,
    /// The hub's self-signed certificate, for the clients to trust.
    pub certificate: PathBuf,
    /// The demo users' password (users `guard` and `manager`), mode 0600.
    pub password_file: PathBuf,
    /// The simulator's control API (faults, door commands).
    pub control_url: String,
    pub site_id: String,
    /// The cameras' password (held by the simulator, as cameras do, and by the recorder,
    /// sealed); never by the hub or the app.
    pub camera_password_file: PathBuf,
    /// The recorder's configuration file and its restream.
    pub recorder_config: PathBuf,
    pub recorder_url: String,
}

impl DemoStack {
    /// Prepares the hub's data (site, users, the doors' source, a certificate) while the hub
    /// is stopped, then starts the simulator and the hub, and returns once both listen.
    /// `say` hears each step, for a log or a terminal.
    pub fn start(places: &DemoPlaces, ports: DemoPorts, say: &dyn Fn(&str)) -> Result<Self> {
        for binary in ["watchfloor-hub", "watchfloor-sim", "watchfloor-recorder"] {
            let path = executable(&places.bin_dir, binary);
            if !path.is_file() {
                return Err(DemoError(format!(
                    "the demo needs {} (installed with the app, or built by `cargo xtask demo`)",
                    path.display()
                )));
            }
        }
        if !places.site.is_file() {
            return Err(DemoError(format!(
                "the demo site {} is missing",
                places.site.display()
            )));
        }
        std::fs::create_dir_all(&places.data)
            .map_err(|e| DemoError(format!("cannot create {}: {e}", places.data.display())))?;
        let data = &places.data;
        let hub = |args: &[&str]| {
            let mut command = Command::new(executable(&places.bin_dir, "watchfloor-hub"));
            command
                .args(args)
                .env(
                    "WATCHFLOOR_HUB_DB",
                    format!("sqlite://{}/hub.db", data.display()),
                )
                .env("WATCHFLOOR_HUB_DATA", data)
                .env_remove("WATCHFLOOR_HUB_CONFIG");
            command
        };
        let site = places.site.to_string_lossy().into_owned();
        // One process owns the hub's database: everything is written before it serves.
        say("demo: the site, its users and the doors' source go into the hub's database");
        run(&mut hub(&["site-import", "--site", &site]))?;
        let (password_file, new) = password(data)?;
        let manager_added = data.join("manager.added");
        let password_arg = password_file.to_string_lossy().into_owned();
        for (user, name) in [("guard", "Demo guard"), ("manager", "Demo manager")] {
            let missing = new || (user == "manager" && !manager_added.exists());
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
                    &password_arg,
                ]))?;
            }
        }
        write(&manager_added, b"")?;
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
        run(&mut hub(&["tls-self-signed"]))?;
        let certificate = data.join("tls/cert.pem");
        let hub_url = format!("https://127.0.0.1:{}", ports.hub);
        let control_url = format!("http://127.0.0.1:{}", ports.control);

        // The cameras' password: the simulator's cameras ask for it, as real ones do.
        let camera_password_file = data.join("cameras.auth");
        if !camera_password_file.exists() {
            let mut text = String::from("demo:");
            for byte in random_bytes()? {
                text.push_str(&format!("{byte:02x}"));
            }
            write(&camera_password_file, text.as_bytes())?;
        }
        let recorder_data = data.join("recorder");
        std::fs::create_dir_all(&recorder_data)
            .map_err(|e| DemoError(format!("cannot create {}: {e}", recorder_data.display())))?;
        let recorder_config = recorder_data.join("recorder.toml");
        let recorder_url = format!("rtsp://127.0.0.1:{}", ports.recorder);

        let mut stack = Self {
            sim: None,
            recorder: None,
            hub: None,
            hub_url: hub_url.clone(),
            certificate: certificate.clone(),
            password_file,
            control_url: control_url.clone(),
            site_id: "demo-hq".into(),
            camera_password_file: camera_password_file.clone(),
            recorder_config: recorder_config.clone(),
            recorder_url: recorder_url.clone(),
        };
        say(&format!(
            "demo: the simulated site (RTSP on {}, control API on {control_url})",
            ports.rtsp
        ));
        let mut sim = Command::new(executable(&places.bin_dir, "watchfloor-sim"));
        sim.arg("--site")
            .arg(&places.site)
            .args(["--rtsp-port", &ports.rtsp.to_string()])
            .args(["--control-port", &ports.control.to_string()])
            .args(["--hub", &hub_url, "--hub-source", "demo-doors"])
            .arg("--hub-secret-file")
            .arg(&secret)
            .arg("--hub-ca")
            .arg(&certificate)
            .arg("--auth-file")
            .arg(&camera_password_file)
            .args(&places.sim_args);
        stack.sim = Some(Kept::start(&sim)?);
        wait_for_port(ports.control, Duration::from_secs(30))?;
        run(&mut hub(&[
            "site-import",
            "--site",
            &site,
            "--streams-from",
            &control_url,
            "--controller-source",
            "demo-doors",
        ]))?;
        say(&format!(
            "demo: the recorder (restream on {recorder_url}), the only holder of the cameras' password"
        ));
        stack.recorder = Some(prepare_recorder(
            places,
            &hub,
            &recorder_config,
            &recorder_url,
            &camera_password_file,
            (ports.recorder, ports.playback),
            (&hub_url, &certificate),
        )?);
        wait_for_port(ports.recorder, Duration::from_secs(30))?;
        say(&format!("demo: the hub on {hub_url}"));
        let mut serve = hub(&["serve", "--listen", &format!("127.0.0.1:{}", ports.hub)]);
        if let Some(console) = &places.console {
            serve.arg("--console").arg(console);
        }
        stack.hub = Some(Kept::start(&serve)?);
        wait_for_port(ports.hub, Duration::from_secs(30))?;
        Ok(stack)
    }

    /// Stops the recorder, the simulator and the hub (SIGTERM: the recorder finishes its
    /// segments, the hub closes its database cleanly).
    pub fn stop(&mut self) {
        // The recorder first: cameras going away under it would be reported as offline.
        for kept in [self.recorder.take(), self.sim.take(), self.hub.take()]
            .into_iter()
            .flatten()
        {
            kept.stop();
        }
    }
}

impl Drop for DemoStack {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Writes the recorder's configuration, registers the recorder with the hub (which must not
/// be running: one process owns its database) and gives it the site's cameras, stores the
/// cameras' password with the recorder (from the file, never a command line), and starts it.
fn prepare_recorder(
    places: &DemoPlaces,
    hub: &dyn Fn(&[&str]) -> Command,
    config: &Path,
    recorder_url: &str,
    camera_password_file: &Path,
    (port, playback_port): (u16, u16),
    (hub_url, certificate): (&str, &Path),
) -> Result<Kept> {
    let recorder = |args: &[&str]| {
        let mut command = Command::new(executable(&places.bin_dir, "watchfloor-recorder"));
        command
            .args(args)
            .arg("--config")
            .arg(config)
            .env_remove("WATCHFLOOR_RECORDER_CONFIG");
        command
    };
    let hub_key = output(&mut hub(&["ticket-key"]))?;
    // It reports cameras going offline (and refused tickets) to the hub as a source of events.
    let secret = config.with_file_name("hub.secret");
    let _ = std::fs::remove_file(&secret);
    run(&mut hub(&[
        "source-add",
        "--id",
        "demo-recorder",
        "--site",
        "demo-hq",
        "--secret-file",
        &secret.to_string_lossy(),
    ]))?;
    let header = format!(
        "# Written by the demo at each start.\n\
         id = \"demo-recorder\"\n\
         data_dir = \".\"\n\
         segment = \"10s\"\n\
         # The sub-streams, to stay light on a laptop; a site records its main streams.\n\
         record = \"sub\"\n\n\
         [retention]\n\
         max_age = \"1d\"\n\
         quota = \"4GiB\"\n\
         min_free = \"1GiB\"\n\n\
         [restream]\n\
         listen = \"127.0.0.1:{port}\"\n\
         http_listen = \"127.0.0.1:{playback_port}\"\n\
         hub_key = \"{}\"\n\n\
         [hub]\n\
         url = \"{hub_url}\"\n\
         site = \"demo-hq\"\n\
         source = \"demo-recorder\"\n\
         secret_file = \"{}\"\n\
         ca_file = \"{}\"\n",
        hub_key.trim(),
        secret.display(),
        certificate.display()
    );
    write(config, header.as_bytes())?;
    let public_key = output(&mut recorder(&["key"]))?;
    run(&mut hub(&[
        "recorder-put",
        "--site",
        "demo-hq",
        "--id",
        "demo-recorder",
        "--name",
        "Demo recorder",
        "--rtsp-url",
        recorder_url,
        "--public-key",
        public_key.trim(),
        "--playback-url",
        &format!("http://127.0.0.1:{playback_port}"),
    ]))?;
    run(&mut hub(&[
        "camera-recorder",
        "--site",
        "demo-hq",
        "--all",
        "--recorder",
        "demo-recorder",
    ]))?;
    let cameras = output(&mut hub(&[
        "recorder-config",
        "--site",
        "demo-hq",
        "--recorder",
        "demo-recorder",
    ]))?;
    write(config, format!("{header}\n{cameras}").as_bytes())?;
    // The password file holds `user:password` (the simulated cameras' own setting): the user
    // goes on the command line, the password through standard input.
    let auth = std::fs::read_to_string(camera_password_file).map_err(|e| {
        DemoError(format!(
            "cannot read {}: {e}",
            camera_password_file.display()
        ))
    })?;
    let (user, camera_password) = auth
        .trim_end()
        .split_once(':')
        .ok_or_else(|| DemoError("the cameras' password file is not user:password".into()))?;
    let mut child = recorder(&["credentials", "set", "--all", "--user", user])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| DemoError(format!("cannot run watchfloor-recorder: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        std::io::Write::write_all(&mut stdin, camera_password.as_bytes())
            .map_err(|e| DemoError(format!("cannot hand the recorder the password: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| DemoError(format!("watchfloor-recorder credentials: {e}")))?;
    if !out.status.success() {
        return Err(DemoError(format!(
            "watchfloor-recorder credentials failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Kept::start(&recorder(&["serve"]))
}

/// A demo process that cannot outlive whoever started it. On Unix it runs under a small `sh`
/// keeper whose standard input is a pipe we hold: when we go, however we go (a SIGKILL
/// included), the pipe closes, the keeper's `read` returns and it stops the process with
/// SIGTERM. Elsewhere the process is stopped when this is dropped.
#[derive(Debug)]
struct Kept {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Kept {
    fn start(command: &Command) -> Result<Self> {
        let mut outer = if cfg!(unix) {
            let mut keeper = Command::new("sh");
            keeper
                .arg("-c")
                .arg("\"$@\" </dev/null & pid=$!\nread _ignored\nkill $pid 2>/dev/null\nwait $pid")
                .arg("keeper")
                .arg(command.get_program())
                .args(command.get_args());
            keeper
        } else {
            let mut direct = Command::new(command.get_program());
            direct.args(command.get_args());
            direct
        };
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => outer.env(key, value),
                None => outer.env_remove(key),
            };
        }
        let mut child = outer
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| DemoError(format!("cannot start {:?}: {e}", command.get_program())))?;
        let stdin = child.stdin.take();
        Ok(Self { child, stdin })
    }

    fn stop(mut self) {
        // The keeper hears the pipe close and stops its process.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while cfg!(unix) && Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn executable(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

fn run(command: &mut Command) -> Result<()> {
    output(command).map(drop)
}

/// Runs `command` and returns what it printed.
fn output(command: &mut Command) -> Result<String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| DemoError(format!("cannot run {:?}: {e}", command.get_program())))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(DemoError(format!(
            "{:?} {:?} failed: {}",
            command.get_program(),
            command.get_args().next().unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Waits until something accepts connections on 127.0.0.1:`port`.
pub fn wait_for_port(port: u16, within: Duration) -> Result<()> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(DemoError(format!(
        "nothing listens on {address} after {within:?}"
    )))
}

/// The demo users' password, made once (random, 24 hex digits) and readable by this user only.
/// Returns whether it was made now.
fn password(dir: &Path) -> Result<(PathBuf, bool)> {
    let path = dir.join("guard.password");
    if path.exists() {
        return Ok((path, false));
    }
    let mut text = String::new();
    for byte in random_bytes()? {
        text.push_str(&format!("{byte:02x}"));
    }
    text.truncate(24);
    write(&path, text.as_bytes())?;
    Ok((path, true))
}

/// Twelve bytes from the operating system's random source.
fn random_bytes() -> Result<[u8; 12]> {
    let mut bytes = [0u8; 12];
    #[cfg(unix)]
    {
        use std::io::Read;
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .map_err(|e| DemoError(format!("cannot read /dev/urandom: {e}")))?;
    }
    #[cfg(not(unix))]
    {
        // The standard library seeds its hasher keys from the system's generator
        // (BCryptGenRandom on Windows); two keyed hashes give the twelve bytes.
        use std::hash::{BuildHasher, Hasher};
        for chunk in bytes.chunks_mut(8) {
            let word = std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
                .to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
    Ok(bytes)
}

/// Writes a new file readable by its owner only (on Unix).
fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, bytes))
        .map_err(|e| DemoError(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_made_once_and_kept_private() {
        let dir = std::env::temp_dir().join(format!("wf-demo-pw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let _ = std::fs::remove_file(dir.join("guard.password"));
        let (path, new) = password(&dir).expect("made");
        assert!(new);
        let first = std::fs::read_to_string(&path).expect("read");
        assert_eq!(first.len(), 24);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        let (_, again) = password(&dir).expect("kept");
        assert!(!again);
        assert_eq!(std::fs::read_to_string(&path).expect("read"), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn missing_parts_are_named() {
        let places = DemoPlaces {
            bin_dir: PathBuf::from("/nonexistent"),
            site: PathBuf::from("/nonexistent/site.json"),
            data: std::env::temp_dir(),
            console: None,
            sim_args: Vec::new(),
        };
        let error =
            DemoStack::start(&places, DemoPorts::STANDARD, &|_| {}).expect_err("no binaries");
        assert!(error.0.contains("watchfloor-hub"), "{error}");
    }

    #[test]
    fn free_ports_differ() {
        let ports = DemoPorts::free().expect("ports");
        assert!(ports.hub != ports.rtsp && ports.rtsp != ports.control);
        assert!(ports.recorder != ports.control && ports.recorder != ports.hub);
    }
}
