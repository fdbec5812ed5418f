//! One app per user and profile. The first instance holds an OS lock on `instance.lock` in the
//! profile for as long as it runs (released by the OS when it ends, even by a crash), listens
//! on a loopback port and writes the port, with a random key, to `instance` (readable by this
//! user only). A second start fails to take the lock, asks the first to show its console
//! through that port, and exits.

use crate::error::{AppError, ErrorCode, Result};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

const FILE: &str = "instance";
const LOCK: &str = "instance.lock";

/// What starting found.
#[derive(Debug)]
pub enum Started {
    /// This is the only instance; `wait_for_others` hears later starts.
    First(InstanceLock),
    /// Another instance runs and was asked to show itself.
    Second,
}

/// Held by the first instance.
#[derive(Debug)]
pub struct InstanceLock {
    listener: TcpListener,
    key: String,
    file: PathBuf,
    /// The locked file; the OS lock lasts as long as this handle.
    _lock: Option<std::fs::File>,
}

impl Drop for InstanceLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

pub fn start(profile: &Path) -> Result<Started> {
    let file = profile.join(FILE);
    let lock_path = profile.join(LOCK);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| AppError::storage(format!("cannot open {}: {e}", lock_path.display())))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            // Another instance runs; it may still be writing its port: ask for a few seconds.
            // Or it is just ending (a restart): the lock comes free, and this one is first.
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            loop {
                if lock.try_lock().is_ok() {
                    break;
                }
                if let Ok(text) = std::fs::read_to_string(&file)
                    && let Some((port, key)) = text.trim().split_once(' ')
                    && let Ok(port) = port.parse::<u16>()
                    && knock(port, key).is_ok()
                {
                    return Ok(Started::Second);
                }
                if std::time::Instant::now() > deadline {
                    return Err(AppError::new(
                        ErrorCode::AlreadyRunning,
                        "Watchfloor already runs for this profile but does not answer; \
                         close it (or end its process) and start again",
                    ));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(AppError::storage(format!(
                "cannot lock {}: {e}",
                lock_path.display()
            )));
        }
    }
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| AppError::storage(format!("cannot listen on loopback: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| AppError::storage(e.to_string()))?
        .port();
    let key: String = (0..16)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    write_private(&file, &format!("{port} {key}\n"))?;
    Ok(Started::First(InstanceLock {
        listener,
        key,
        file,
        _lock: Some(lock),
    }))
}

fn knock(port: u16, key: &str) -> std::io::Result<()> {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    writeln!(stream, "{key} show")?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer)?;
    if answer.trim() == "ok" {
        Ok(())
    } else {
        Err(std::io::Error::other("not a Watchfloor instance"))
    }
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| AppError::storage(format!("cannot write {}: {e}", path.display())))
}

impl InstanceLock {
    /// Calls `show` each time another start asks (runs until the process ends; call on a
    /// thread of its own).
    pub fn wait_for_others(&self, show: impl Fn()) {
        for stream in self.listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut line = String::new();
            let mut reader = BufReader::new(&stream);
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            if line.trim() == format!("{} show", self.key) {
                show();
                let _ = (&stream).write_all(b"ok\n");
            }
        }
    }

    /// A second handle on the listener, for the waiting thread.
    pub fn try_clone(&self) -> Result<Self> {
        Ok(Self {
            listener: self
                .listener
                .try_clone()
                .map_err(|e| AppError::storage(e.to_string()))?,
            key: self.key.clone(),
            // Only the original removes the file and holds the lock.
            file: PathBuf::new(),
            _lock: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_second_start_shows_the_first_and_a_stale_file_is_taken_over() {
        let dir = std::env::temp_dir().join(format!("wf-instance-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        // A crashed instance's file: nothing listens there.
        std::fs::write(dir.join(FILE), "9 stale\n").expect("stale");
        let Started::First(lock) = start(&dir).expect("first") else {
            panic!("a stale file must not block the first instance");
        };
        let shown = Arc::new(AtomicUsize::new(0));
        let waiter = lock.try_clone().expect("clone");
        let counter = shown.clone();
        std::thread::spawn(move || {
            waiter.wait_for_others(|| {
                counter.fetch_add(1, Ordering::SeqCst);
            })
        });
        assert!(matches!(start(&dir).expect("second"), Started::Second));
        assert_eq!(shown.load(Ordering::SeqCst), 1);
        drop(lock);
        assert!(!dir.join(FILE).exists());
    }

    #[test]
    fn a_start_while_the_last_instance_is_ending_becomes_the_first() {
        let dir = std::env::temp_dir().join(format!("wf-instance-ending-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let Started::First(ending) = start(&dir).expect("first") else {
            panic!("the first instance");
        };
        // It holds the profile and answers no one, and is gone a moment later.
        let leaving = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(600));
            drop(ending);
        });
        assert!(
            matches!(start(&dir).expect("the next start"), Started::First(_)),
            "a restart takes the profile once the last instance let it go"
        );
        leaving.join().expect("joined");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
