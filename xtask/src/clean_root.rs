//! A minimal root of this machine's release (Debian or Ubuntu) made for the package check, so
//! that the .deb is installed where nothing else ever was: a development machine (or CI's)
//! has packages from earlier work that hide a dependency the .deb forgot to declare.
//!
//! - The **base** is made once by `debootstrap --variant=minbase` from the distribution mirror
//!   this machine's apt already uses (or `WATCHFLOOR_ROOT_MIRROR`), for this machine's own
//!   release (the binaries in the .deb were linked against its libraries), and kept as a
//!   tarball in the build cache.
//! - The **prepared** root is the base plus what the .deb declares in `Depends`, installed by
//!   `apt-get satisfy --no-install-recommends` from that string alone; it is cached under a
//!   name made from the string, so a changed `Depends` makes a new one (older ones are
//!   removed).
//! - Each check unpacks a fresh copy of the prepared root into a folder of its own, installs
//!   the .deb there (its dependencies are already met, so nothing else comes in) and runs
//!   commands inside with `chroot` and an empty environment.
//!
//! Safety: nothing is ever mounted in this machine's mount namespace. debootstrap and each
//! command inside run in a mount namespace of their own (`unshare --mount`): what they mount
//! (`/proc`, a read-only `/sys`, `/dev/shm`) goes when they exit, however they exit; `/dev` is
//! the static device nodes debootstrap made. So removing a root can never reach this machine's
//! `/dev`. Needs root (or `sudo`) with the right to make mount namespaces, which an
//! unprivileged container lacks.

use crate::{Result, run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment commands inside the root get, and nothing else.
const ENVIRONMENT: &[&str] = &[
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/root",
    "LANG=C.UTF-8",
    "DEBIAN_FRONTEND=noninteractive",
];

/// This machine's proxy settings, passed on so that apt inside reaches what apt outside does.
const PROXY_VARIABLES: &[&str] = &["http_proxy", "https_proxy", "no_proxy"];

/// A fresh root in a folder of its own, removed when dropped.
#[derive(Debug)]
pub struct CleanRoot {
    dir: PathBuf,
}

/// `program` as root: directly when we are root, otherwise through `sudo`.
fn privileged(program: &str) -> Command {
    if crate::setup::is_root() {
        Command::new(program)
    } else {
        let mut sudo = Command::new("sudo");
        sudo.arg(program);
        sudo
    }
}

/// This machine's release, from /etc/os-release.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Release {
    /// `debian` or `ubuntu`.
    id: String,
    /// `bookworm`, `jammy`, ...
    codename: String,
}

impl Release {
    fn here() -> Result<Self> {
        let text = std::fs::read_to_string("/etc/os-release")
            .map_err(|e| format!("clean root: /etc/os-release: {e}"))?;
        let field = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(&format!("{name}=")))
                .map(|value| value.trim_matches('"').to_owned())
                .ok_or(format!("clean root: no {name} in /etc/os-release"))
        };
        Ok(Self {
            id: field("ID")?,
            codename: field("VERSION_CODENAME")?,
        })
    }

    /// The archive's keyring file, which the root's apt trusts.
    fn keyring(&self) -> String {
        format!("/usr/share/keyrings/{}-archive-keyring.gpg", self.id)
    }

    /// The components the .deb's dependencies come from.
    fn components(&self) -> &'static str {
        if self.id == "ubuntu" {
            "main universe"
        } else {
            "main"
        }
    }

    /// The root's apt sources: the distribution's own suites on `mirror`, and the security
    /// suite where this machine has one, nothing third-party.
    fn sources(&self, mirror: &str, security: Option<&str>) -> String {
        let (codename, components) = (&self.codename, self.components());
        let mut list = format!(
            "deb {mirror} {codename} {components}\ndeb {mirror} {codename}-updates {components}\n"
        );
        if let Some(security) = security {
            list.push_str(&format!(
                "deb {security} {codename}-security {components}\n"
            ));
        }
        list
    }
}

/// This machine's apt source files (one-line `.list` and deb822 `.sources`), in a stable
/// order with the distribution's own files first.
fn apt_sources() -> Vec<String> {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    let mut others: Vec<PathBuf> = std::fs::read_dir("/etc/apt/sources.list.d")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "list" || ext == "sources")
        })
        .collect();
    let own = |path: &PathBuf| {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        !(name.starts_with("debian.") || name.starts_with("ubuntu."))
    };
    others.sort_by_key(|path| (own(path), path.clone()));
    files.extend(others);
    files
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .collect()
}

/// The first mirror in `sources` for `suite` that the distribution's own `keyring` signs (or
/// that names no key): deb822 `URIs:` of a stanza whose `Suites:` has the suite, or a one-line
/// `deb URI suite ...`. Third-party repositories that share the suite name sign with their
/// own keys and are passed over.
fn mirror(sources: &[String], suite: &str, keyring: &str) -> Option<String> {
    let trusted = |signed_by: Option<&str>| signed_by.is_none_or(|key| key.trim() == keyring);
    for text in sources {
        for stanza in text.split("\n\n") {
            let field = |name: &str| {
                stanza
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(str::trim)
            };
            if let (Some(uris), Some(suites)) = (field("URIs:"), field("Suites:"))
                && field("Types:").is_none_or(|t| t.split_whitespace().any(|t| t == "deb"))
                && field("Enabled:").is_none_or(|e| e != "no")
                && suites.split_whitespace().any(|s| s == suite)
                && trusted(field("Signed-By:"))
                && let Some(uri) = uris.split_whitespace().find(|u| is_plain(u))
            {
                return Some(uri.to_owned());
            }
        }
        for line in text.lines() {
            // Options (`[arch=amd64 signed-by=...]`) may hold spaces: read them apart.
            let (options, line) = match (line.find('['), line.find(']')) {
                (Some(open), Some(close)) if open < close => (
                    &line[open + 1..close],
                    format!("{}{}", &line[..open], &line[close + 1..]),
                ),
                _ => ("", line.to_owned()),
            };
            let signed_by = options
                .split_whitespace()
                .find_map(|o| o.strip_prefix("signed-by="));
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["deb", uri, line_suite, ..] = words.as_slice()
                && *line_suite == suite
                && is_plain(uri)
                && trusted(signed_by)
            {
                return Some((*uri).to_owned());
            }
        }
    }
    None
}

/// A mirror debootstrap can use as it is: http or https (not `mirror+file:`, `cdrom:`).
fn is_plain(uri: &str) -> bool {
    uri.starts_with("http://") || uri.starts_with("https://")
}

/// Removes `dir` without crossing into another file system.
fn remove(dir: &Path) -> Result<()> {
    if dir.exists() {
        run(privileged("rm")
            .arg("-rf")
            .arg("--one-file-system")
            .arg(dir))?;
    }
    Ok(())
}

/// Removes what runs that are gone left behind (killed before they could clean up): their
/// roots, and tarballs they were still writing.
fn remove_abandoned(cache: &Path) {
    for entry in std::fs::read_dir(cache).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix("run-")
            .or_else(|| name.strip_prefix("staging-"))
            .or_else(|| name.rsplit_once(".partial-").map(|(_, pid)| pid));
        if let Some(pid) = pid
            && !Path::new("/proc").join(pid).exists()
            && let Err(error) = remove(&entry.path())
        {
            eprintln!("clean root: cannot remove an abandoned root: {error}");
        }
    }
}

/// `unshare` into a mount namespace of its own, as root, for `args`: what they mount is gone
/// when they exit, however they exit, and never propagates to this machine.
fn in_own_mount_namespace() -> Command {
    let mut command = privileged("unshare");
    command.args(["--mount", "--propagation", "private", "--"]);
    command
}

/// Runs `args` inside the root `dir` with only [`ENVIRONMENT`], in a mount namespace of its
/// own with `/proc`, a read-only `/sys` and `/dev/shm`.
fn run_inside(dir: &Path, args: &[&str]) -> Result<()> {
    const MOUNT_AND_ENTER: &str = "set -e; root=$1; shift; \
        mount -t proc proc \"$root/proc\"; \
        mount -t sysfs -o ro sysfs \"$root/sys\"; \
        mkdir -p \"$root/dev/shm\"; mount -t tmpfs -o mode=1777 tmpfs \"$root/dev/shm\"; \
        exec chroot \"$root\" \"$@\"";
    run(in_own_mount_namespace()
        .args(["sh", "-c", MOUNT_AND_ENTER, "sh"])
        .arg(dir)
        .args(["/usr/bin/env", "-i"])
        .args(ENVIRONMENT)
        .args(PROXY_VARIABLES.iter().filter_map(|name| {
            let value = std::env::var(name).ok()?;
            Some(format!("{name}={value}"))
        }))
        .args(args))
}

/// Fails in words when this process cannot make a mount namespace (not root and no `sudo`,
/// or an unprivileged container), instead of a bare exit status halfway through.
fn check_privileges() -> Result<()> {
    let works = in_own_mount_namespace()
        .arg("true")
        .status()
        .is_ok_and(|status| status.success());
    if works {
        Ok(())
    } else {
        Err(
            "clean root: the package check installs the .deb into a root of its own and needs \
             root (or sudo) with the right to make mount namespaces (`unshare --mount`); an \
             unprivileged container does not have it"
                .into(),
        )
    }
}

/// Copies `from` (outside) to `inside` (an absolute path in the root at `dir`), replacing
/// whatever is there rather than writing through it (a link in the root must never point the
/// copy at this machine's files).
fn copy_into(dir: &Path, from: &Path, inside: &str) -> Result<()> {
    let target = dir.join(inside.trim_start_matches('/'));
    if let Some(parent) = target.parent() {
        run(privileged("mkdir").arg("-p").arg(parent))?;
    }
    run(privileged("cp")
        .arg("--remove-destination")
        .arg(from)
        .arg(&target))
}

/// Writes `text` to `inside` in the root at `dir`.
fn write_into(dir: &Path, inside: &str, text: &str) -> Result<()> {
    let staged = std::env::temp_dir().join(format!("watchfloor-root-{}", std::process::id()));
    std::fs::write(&staged, text)
        .map_err(|e| format!("clean root: cannot write {}: {e}", staged.display()))?;
    let outcome = copy_into(dir, &staged, inside);
    let _ = std::fs::remove_file(&staged);
    outcome
}

/// Packs the root at `dir` into `tarball` (written aside, then moved into place).
fn pack(dir: &Path, tarball: &Path) -> Result<()> {
    let partial = tarball.with_extension(format!("partial-{}", std::process::id()));
    run(privileged("tar")
        .arg("--one-file-system")
        .arg("-C")
        .arg(dir)
        .arg("-cf")
        .arg(&partial)
        .arg("."))?;
    run(privileged("mv").arg(&partial).arg(tarball))
}

fn unpack(tarball: &Path, dir: &Path) -> Result<()> {
    run(privileged("mkdir").arg("-p").arg(dir))?;
    run(privileged("tar").arg("-C").arg(dir).arg("-xf").arg(tarball))
}

/// The cached minimal base for this machine's release, made with debootstrap when missing;
/// its apt sources are the distribution's own, on the mirror this machine uses.
fn base(cache: &Path, release: &Release) -> Result<PathBuf> {
    let tarball = cache.join(format!("{}-{}-minbase.tar", release.id, release.codename));
    if tarball.exists() {
        return Ok(tarball);
    }
    let sources = apt_sources();
    let keyring = release.keyring();
    let uri = std::env::var("WATCHFLOOR_ROOT_MIRROR")
        .ok()
        .or_else(|| mirror(&sources, &release.codename, &keyring))
        .ok_or(format!(
            "clean root: this machine's apt has no http(s) source for {} signed by {keyring} \
             to debootstrap from; name one in WATCHFLOOR_ROOT_MIRROR",
            release.codename
        ))?;
    let security = mirror(
        &sources,
        &format!("{}-security", release.codename),
        &keyring,
    );
    let staging = cache.join(format!("staging-{}", std::process::id()));
    remove(&staging)?;
    eprintln!(
        "clean root: making a minimal {} {} root (once; cached as {})",
        release.id,
        release.codename,
        tarball.display()
    );
    // debootstrap mounts /proc and /sys inside the new root: in a namespace of its own, so
    // that a killed run leaves nothing mounted here.
    run(in_own_mount_namespace()
        .args(["debootstrap", "--variant=minbase", &release.codename])
        .arg(&staging)
        .arg(&uri))?;
    write_into(
        &staging,
        "/etc/apt/sources.list",
        &release.sources(&uri, security.as_deref()),
    )?;
    // debootstrap leaves the packages it downloaded; the base need not carry them.
    run_inside(&staging, &["apt-get", "clean"])?;
    pack(&staging, &tarball)?;
    remove(&staging)?;
    Ok(tarball)
}

/// A stable 64-bit FNV-1a hash: names a cache file after its content across Rust releases.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The base plus what `depends` names, cached under a name made from the string.
fn prepared(cache: &Path, release: &Release, depends: &str) -> Result<PathBuf> {
    let prefix = format!("{}-{}-prepared-", release.id, release.codename);
    let tarball = cache.join(format!("{prefix}{:016x}.tar", fnv1a(depends)));
    if tarball.exists() {
        return Ok(tarball);
    }
    let base = base(cache, release)?;
    let staging = cache.join(format!("staging-{}", std::process::id()));
    remove(&staging)?;
    unpack(&base, &staging)?;
    // Name resolution as this machine has it now, not as when the base was made.
    let resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    write_into(&staging, "/etc/resolv.conf", &resolv)?;
    eprintln!("clean root: installing what the .deb depends on (again only when that changes)");
    run_inside(&staging, &["apt-get", "update", "-q"])?;
    run_inside(
        &staging,
        &[
            "apt-get",
            "satisfy",
            "-y",
            "-q",
            "--no-install-recommends",
            depends,
        ],
    )?;
    run_inside(&staging, &["apt-get", "clean"])?;
    pack(&staging, &tarball)?;
    remove(&staging)?;
    // Roots prepared for earlier dependency lists are not needed again.
    for entry in std::fs::read_dir(cache).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && entry.path() != tarball {
            let _ = privileged("rm").arg("-f").arg(entry.path()).status();
        }
    }
    Ok(tarball)
}

impl CleanRoot {
    /// A fresh root under `cache` with only what `depends` (the .deb's `Depends` field)
    /// brings.
    pub fn fresh(cache: &Path, depends: &str) -> Result<Self> {
        std::fs::create_dir_all(cache)
            .map_err(|e| format!("clean root: {}: {e}", cache.display()))?;
        check_privileges()?;
        remove_abandoned(cache);
        let release = Release::here()?;
        let tarball = prepared(cache, &release, depends)?;
        let dir = cache.join(format!("run-{}", std::process::id()));
        remove(&dir)?;
        unpack(&tarball, &dir)?;
        Ok(Self { dir })
    }

    /// Copies the file `from` (outside) to `to` (inside the root).
    pub fn copy_in(&self, from: &Path, to: &str) -> Result<()> {
        copy_into(&self.dir, from, to)
    }

    /// Where `inside` (an absolute path in the root) is from outside.
    pub fn path(&self, inside: &str) -> PathBuf {
        self.dir.join(inside.trim_start_matches('/'))
    }

    /// Runs `args` inside the root.
    pub fn run(&self, args: &[&str]) -> Result<()> {
        run_inside(&self.dir, args)
    }

    /// Installs the package file `deb`; its dependencies are met already, so apt brings
    /// nothing else (and fails if they are not).
    pub fn install(&self, deb: &Path) -> Result<()> {
        let name = deb
            .file_name()
            .ok_or("clean root: the package has no file name")?
            .to_string_lossy()
            .into_owned();
        let inside = format!("/tmp/{name}");
        self.copy_in(deb, &inside)?;
        self.run(&["dpkg", "--install", &inside])
    }
}

impl Drop for CleanRoot {
    fn drop(&mut self) {
        if let Err(error) = remove(&self.dir) {
            eprintln!("{error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Release, mirror};

    const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

    #[test]
    fn the_mirror_comes_from_a_deb822_stanza_of_the_suite_signed_by_the_archive() {
        let text = "Types: deb\nURIs: http://docker.invalid/debian\nSuites: bookworm\n\
                    Components: stable\nSigned-By: /etc/apt/keyrings/docker.asc\n\n\
                    Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates\n\
                    Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n";
        let sources = vec![text.to_owned()];
        assert_eq!(
            mirror(&sources, "bookworm", KEYRING).as_deref(),
            Some("http://mirror.invalid/debian")
        );
        assert_eq!(mirror(&sources, "trixie", KEYRING), None);
    }

    #[test]
    fn the_mirror_comes_from_a_one_line_source_and_third_party_keys_are_passed_over() {
        let text = "# comment\n\
                    deb [arch=amd64 signed-by=/k.gpg] http://thirdparty.invalid/ jammy main\n\
                    deb [arch=amd64] http://mirror.invalid/ubuntu jammy main universe\n";
        let keyring = "/usr/share/keyrings/ubuntu-archive-keyring.gpg";
        assert_eq!(
            mirror(&[text.to_owned()], "jammy", keyring).as_deref(),
            Some("http://mirror.invalid/ubuntu")
        );
    }

    #[test]
    fn sources_debootstrap_cannot_use_are_passed_over() {
        let text = "Types: deb-src\nURIs: http://src.invalid/debian\nSuites: bookworm\n\n\
                    Types: deb\nURIs: mirror+file:///etc/apt/mirrors/debian.list\nSuites: bookworm\n\n\
                    Types: deb\nURIs: http://off.invalid/debian\nSuites: bookworm\nEnabled: no\n\n\
                    Types: deb\nURIs: https://mirror.invalid/debian\nSuites: bookworm\n";
        assert_eq!(
            mirror(&[text.to_owned()], "bookworm", KEYRING).as_deref(),
            Some("https://mirror.invalid/debian")
        );
    }

    #[test]
    fn a_root_without_a_security_source_gets_no_security_suite() {
        let release = Release {
            id: "debian".into(),
            codename: "bookworm".into(),
        };
        assert!(
            !release
                .sources("http://m.invalid/debian", None)
                .contains("security")
        );
    }

    #[test]
    fn cache_names_follow_the_dependency_list() {
        assert_eq!(super::fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(super::fnv1a("a, b"), super::fnv1a("a, c"));
    }

    #[test]
    fn the_root_gets_only_the_distribution_suites() {
        let release = Release {
            id: "debian".into(),
            codename: "bookworm".into(),
        };
        assert_eq!(
            release.sources(
                "http://m.invalid/debian",
                Some("http://s.invalid/debian-security")
            ),
            "deb http://m.invalid/debian bookworm main\n\
             deb http://m.invalid/debian bookworm-updates main\n\
             deb http://s.invalid/debian-security bookworm-security main\n"
        );
    }
}
