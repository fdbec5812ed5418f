//! Real throwaway servers for tests: a PostgreSQL cluster made with the system's `initdb`, a
//! Mosquitto broker, each on a free loopback port, and Xvfb on a display of its own choosing.
//!
//! Each server runs under a small `sh` keeper whose standard input is a pipe held by the test
//! process: when the test process ends, however it ends, the pipe closes, the keeper's `read`
//! returns, and it stops the server and removes its folder. No server outlives its tests.
//!
//! Nothing here is a mock: a missing `initdb` or `mosquitto` is an error that says which package
//! to install (`cargo xtask setup` installs both).

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// A server process under its keeper; dropping it stops the server.
#[derive(Debug)]
struct Kept {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Kept {
    /// Runs `script` under `sh`, as `user` when given and we are root, with `$1` set to `dir`.
    /// The script must start the server in the background and leave its pid in `$pid`.
    fn start(script: &str, dir: &Path, user: Option<&str>) -> Result<Self, String> {
        let keeper = format!(
            "{script}\nread _ignored\nkill -INT $pid 2>/dev/null\nwait $pid 2>/dev/null\nrm -rf \"$1\"\n"
        );
        let mut command = match user.filter(|_| running_as_root()) {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--", "sh", "-c", &keeper, "keeper"]);
                c
            }
            None => {
                let mut c = Command::new("sh");
                c.args(["-c", &keeper, "keeper"]);
                c
            }
        };
        let mut child = command
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start keeper shell: {e}"))?;
        let stdin = child.stdin.take();
        Ok(Self { child, stdin })
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"stop\n");
        }
        let _ = self.child.wait();
    }
}

fn wait_for_port(port: u16, what: &str, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "{what} did not listen on 127.0.0.1:{port} within {within:?}"
    ))
}

/// Checks a file the UI takes from Rust (under `ui/src/generated/`, committed) against what the
/// code generates now: a test fails on drift. With `WATCHFLOOR_CODEGEN=write` (what
/// `cargo xtask codegen` sets) it writes the file instead. `relative` is from the repository root;
/// the calling test's package must be `crates/<name>`.
pub fn generated(relative: &str, text: &str) {
    // The calling test's package (`crates/<name>`), as cargo says now: a path compiled into
    // this crate may be another clone's, since clones share one build folder.
    let Some(package) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        panic!("cargo test sets CARGO_MANIFEST_DIR");
    };
    let path = Path::new(&package).join("../..").join(relative);
    if std::env::var_os("WATCHFLOOR_CODEGEN").is_some_and(|v| v == "write") {
        if let Err(error) = std::fs::write(&path, text) {
            panic!("cannot write {}: {error}", path.display());
        }
        eprintln!("wrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{relative} is not what the Rust code generates: run `cargo xtask codegen` and commit it"
    );
}

/// Checks a systemd unit with `systemd-analyze verify`, its installed binary path
/// (`installed`) pointed at the one cargo built (`built`); fails naming what systemd said.
pub fn verify_systemd_unit(unit: &Path, installed: &str, built: &str) {
    let text = std::fs::read_to_string(unit)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", unit.display()));
    let dir = scratch("systemd-unit");
    let name = unit.file_name().expect("a unit file name");
    let path = dir.join(name);
    std::fs::write(&path, text.replace(installed, built)).expect("write the unit");
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze (package systemd)");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && said.trim().is_empty(),
        "systemd-analyze verify {}: {said}",
        unit.display()
    );
}

/// Checks an evidence export's folder as its README tells a reader without Watchfloor to:
/// `openssl` verifies the recorder's signatures of `SHA256SUMS` and `manifest.json` with
/// `recorder-key.pem`, and `sha256sum -c` the files. Answers what failed, in the tools' words.
pub fn verify_export_without_watchfloor(folder: &Path) -> Result<(), String> {
    let run = |program: &str, args: &[&str]| -> Result<(), String> {
        let output = Command::new(program)
            .args(args)
            .current_dir(folder)
            .output()
            .map_err(|e| format!("{program} (cargo xtask setup installs it): {e}"))?;
        if output.status.success() {
            return Ok(());
        }
        Err(format!(
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    };
    let signed = |input: &str, signature: &str| {
        run(
            "openssl",
            &[
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                "recorder-key.pem",
                "-rawin",
                "-in",
                input,
                "-sigfile",
                signature,
            ],
        )
    };
    signed("SHA256SUMS", "SHA256SUMS.sig")?;
    run("sha256sum", &["-c", "--strict", "SHA256SUMS"])?;
    signed("manifest.json", "manifest.sig")
}

/// A new, empty folder for one test's files, named after `kind`, unique to this process and
/// call (tests run in parallel), under a folder of this process's own. Left behind for a look
/// after a failure, until a later test process clears the folders of processes that have
/// ended (a run of every test leaves hundreds).
pub fn scratch(kind: &str) -> PathBuf {
    match scratch_dir(kind) {
        Ok(dir) => dir,
        Err(error) => panic!("scratch folder: {error}"),
    }
}

/// The folder holding each test process's scratch folders, one folder per process id.
fn scratch_root() -> PathBuf {
    std::env::temp_dir().join("watchfloor-tests")
}

fn scratch_dir(kind: &str) -> Result<PathBuf, String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    static SWEEP: std::sync::Once = std::sync::Once::new();
    SWEEP.call_once(|| sweep_ended(&scratch_root()));
    let process = scratch_root().join(std::process::id().to_string());
    let dir = process.join(format!("{kind}-{}", NEXT.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // Like the temporary folder itself (sticky, open to all): a server run as another user
    // (PostgreSQL under root) removes the folder it was given when it stops.
    for shared in [scratch_root(), process] {
        // Never through a link planted there by another user.
        if !std::fs::symlink_metadata(&shared).is_ok_and(|m| m.is_dir()) {
            return Err(format!("{} is not a folder", shared.display()));
        }
        let _ = std::fs::set_permissions(
            &shared,
            std::os::unix::fs::PermissionsExt::from_mode(0o1777),
        );
    }
    Ok(dir)
}

/// Removes the folders in `root` of test processes that no longer run. A folder that cannot
/// be removed stays (another user's); nothing here fails a test.
fn sweep_ended(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn chown(dir: &Path, user: &str) -> Result<(), String> {
    if !running_as_root() {
        return Ok(());
    }
    let status = Command::new("chown")
        .args(["-R", &format!("{user}:"), &dir.to_string_lossy()])
        .status()
        .map_err(|e| format!("cannot run chown: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("chown {user} {} failed", dir.display()))
}

fn postgres_bin() -> Result<PathBuf, String> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "PostgreSQL is not installed (apt install postgresql)".to_owned())?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    // The newest major version, compared numerically.
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found
        .pop()
        .ok_or_else(|| "no initdb under /usr/lib/postgresql/*/bin (apt install postgresql)".into())
}

/// A throwaway PostgreSQL cluster on a free loopback port, trusting local connections.
#[derive(Debug)]
pub struct Postgres {
    port: u16,
    bin: PathBuf,
    _server: Kept,
}

impl Postgres {
    /// The superuser the cluster is made with.
    pub const USER: &'static str = "watchfloor";

    pub fn start() -> Result<Self, String> {
        let bin = postgres_bin()?;
        let dir = scratch_dir("pg")?;
        chown(&dir, "postgres")?;
        let data = dir.join("data");
        let initdb = if running_as_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(bin.join("initdb"))
                .args(["-D", &data.to_string_lossy()])
                .args(["-U", Self::USER, "--auth=trust", "-E", "UTF8", "--no-sync"])
                .output()
        } else {
            Command::new(bin.join("initdb"))
                .args(["-D", &data.to_string_lossy()])
                .args(["-U", Self::USER, "--auth=trust", "-E", "UTF8", "--no-sync"])
                .output()
        }
        .map_err(|e| format!("cannot run initdb: {e}"))?;
        if !initdb.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&initdb.stderr)
            ));
        }
        let port = free_port();
        let script = format!(
            "'{postgres}' -D \"$1/data\" -p {port} -k \"$1\" -c listen_addresses=127.0.0.1 \
             -c max_connections=200 >\"$1/log\" 2>&1 &\npid=$!",
            postgres = bin.join("postgres").display()
        );
        let server = Kept::start(&script, &dir, Some("postgres"))?;
        wait_for_port(port, "PostgreSQL", Duration::from_secs(30))?;
        let pg = Self {
            port,
            bin,
            _server: server,
        };
        // Listening is not yet accepting: wait until a query answers.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match pg.psql("postgres", "SELECT 1") {
                Ok(()) => return Ok(pg),
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn psql(&self, database: &str, sql: &str) -> Result<(), String> {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                Self::USER,
            ])
            .args(["-d", database, "-v", "ON_ERROR_STOP=1", "-qc", sql])
            .output()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        out.status
            .success()
            .then_some(())
            .ok_or_else(|| format!("psql: {}", String::from_utf8_lossy(&out.stderr)))
    }

    /// Makes a new, empty database and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        self.psql("postgres", &format!("CREATE DATABASE \"{name}\""))?;
        Ok(format!(
            "postgres://{}@127.0.0.1:{}/{name}",
            Self::USER,
            self.port
        ))
    }
}

/// A Mosquitto broker on a free loopback port, anonymous, without persistence.
#[derive(Debug)]
pub struct Mosquitto {
    port: u16,
    _server: Kept,
}

/// Runs Mosquitto on `port` with `config` (after its `listener` line) in `dir`, where the
/// configuration's files are, and waits until it listens.
fn run_mosquitto(dir: &Path, port: u16, config: &str) -> Result<Kept, String> {
    let binary = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .ok_or("mosquitto is not installed (apt install mosquitto)")?;
    std::fs::write(
        dir.join("mosquitto.conf"),
        format!("listener {port} 127.0.0.1\n{config}persistence false\n"),
    )
    .map_err(|e| format!("cannot write mosquitto.conf: {e}"))?;
    // Read access for the `mosquitto` user it drops to when started as root; without that
    // user the broker keeps running as root and reads the files anyway.
    let _ = chown(dir, "mosquitto");
    let script = format!("'{binary}' -c \"$1/mosquitto.conf\" >\"$1/log\" 2>&1 &\npid=$!");
    let server = Kept::start(&script, dir, None)?;
    wait_for_port(port, "Mosquitto", Duration::from_secs(10))?;
    Ok(server)
}

impl Mosquitto {
    pub fn start() -> Result<Self, String> {
        let dir = scratch_dir("mqtt")?;
        let port = free_port();
        let server = run_mosquitto(&dir, port, "allow_anonymous true\n")?;
        Ok(Self {
            port,
            _server: server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

/// A Mosquitto broker on a free loopback port as a site should run one: TLS with a certificate
/// from a CA of its own ([`SecureMosquitto::ca_pem`]), and no anonymous clients: each of the
/// users it was started with signs in with a password.
#[derive(Debug)]
pub struct SecureMosquitto {
    port: u16,
    ca_pem: String,
    _server: Kept,
}

impl SecureMosquitto {
    /// A broker that knows `users` as (name, password).
    pub fn start(users: &[(&str, &str)]) -> Result<Self, String> {
        let dir = scratch_dir("mqtts")?;
        let port = free_port();
        let (ca_pem, cert_pem, key_pem) = broker_certificate()
            .map_err(|e| format!("cannot make the broker's certificate: {e}"))?;
        for (name, text) in [("server.pem", &cert_pem), ("server.key", &key_pem)] {
            std::fs::write(dir.join(name), text)
                .map_err(|e| format!("cannot write {name}: {e}"))?;
        }
        let passwords = dir.join("passwords");
        for (n, (user, password)) in users.iter().enumerate() {
            let mut command = Command::new("mosquitto_passwd");
            if n == 0 {
                command.arg("-c");
            }
            let status = command
                .arg("-b")
                .arg(&passwords)
                .args([user, password])
                .stdout(Stdio::null())
                .status()
                .map_err(|e| format!("cannot run mosquitto_passwd (apt install mosquitto): {e}"))?;
            if !status.success() {
                return Err(format!("mosquitto_passwd failed for {user}: {status}"));
            }
        }
        let d = dir.display();
        let server = run_mosquitto(
            &dir,
            port,
            &format!(
                "certfile {d}/server.pem\nkeyfile {d}/server.key\n\
                 allow_anonymous false\npassword_file {d}/passwords\n"
            ),
        )?;
        Ok(Self {
            port,
            ca_pem,
            _server: server,
        })
    }

    /// `mqtts://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("mqtts://127.0.0.1:{}", self.port)
    }

    /// The CA that signed the broker's certificate, for clients to trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
}

/// A CA and a certificate it signed for 127.0.0.1 and localhost, with the certificate's key:
/// (CA PEM, certificate PEM, key PEM).
fn broker_certificate() -> Result<(String, String, String), rcgen::Error> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Watchfloor test broker CA");
    let ca = ca.self_signed(&ca_key)?;
    let key = KeyPair::generate()?;
    let mut server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
    server
        .distinguished_name
        .push(DnType::CommonName, "Watchfloor test broker");
    let server = server.signed_by(&key, &ca, &ca_key)?;
    Ok((ca.pem(), server.pem(), key.serialize_pem()))
}

/// A virtual X server for window tests, on a display number the server picks itself
/// (`-displayfd`), so stale sockets or locks left by killed servers never get in the way.
/// Dropping it stops the server with SIGTERM, so it removes its own socket and lock.
#[derive(Debug)]
pub struct Xvfb {
    child: Child,
    /// `:N`, for `DISPLAY`.
    pub display: String,
}

impl Xvfb {
    /// Starts Xvfb with one screen of `size` (`WIDTHxHEIGHTxDEPTH`).
    pub fn start(size: &str) -> Result<Self, String> {
        use std::io::BufRead;
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", size, "-nolisten", "tcp"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start Xvfb (cargo xtask setup installs it): {e}"))?;
        let stdout = child.stdout.take().ok_or("Xvfb has no stdout")?;
        // The server writes its display number once it accepts connections.
        let (send, answer) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = send.send(line);
        });
        let mut server = Self {
            child,
            display: String::new(),
        };
        let line = answer
            .recv_timeout(Duration::from_secs(20))
            .map_err(|_| "Xvfb did not say its display within 20 s".to_owned())?;
        let number: u32 = line
            .trim()
            .parse()
            .map_err(|_| format!("Xvfb said `{}`, not a display number", line.trim()))?;
        server.display = format!(":{number}");
        Ok(server)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folders_of_ended_processes_are_cleared_and_running_ones_kept() {
        let root = scratch("sweep");
        // A process that has ended: a child waited for.
        let mut child = Command::new("true").spawn().expect("true");
        let ended = child.id();
        child.wait().expect("waited");
        let ours = root.join(std::process::id().to_string()).join("kept");
        let theirs = root.join(ended.to_string()).join("gone");
        let other = root.join("not-a-process");
        for dir in [&ours, &theirs, &other] {
            std::fs::create_dir_all(dir).expect("folder");
        }
        sweep_ended(&root);
        assert!(ours.exists(), "this process's folder stays");
        assert!(other.exists(), "a folder not named by a process id stays");
        assert!(
            !root.join(ended.to_string()).exists(),
            "an ended process's folder goes"
        );
    }
}
