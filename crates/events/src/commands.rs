//! Door commands from the hub to a controller, signed so that nobody else on the network can
//! send one and nobody can send one again.
//!
//! The hub posts the command's JSON with three headers: [`TIMESTAMP_HEADER`] (Unix seconds),
//! [`NONCE_HEADER`] (32 hex digits, fresh for each command) and [`SIGNATURE_HEADER`]
//! (`sha256=<hex HMAC-SHA256 over "<timestamp>.<nonce>.<body>">`). The key is not the event
//! source's secret itself but [`command_key`] of it: a controller and the hub already share
//! that secret for the events it sends, and a separate key keeps a signed event from ever
//! reading as a signed command. A controller keeps a [`CommandGuard`], which refuses a command
//! that is unsigned, wrongly signed, more than [`MAX_SKEW_S`] away, or seen before. It keeps
//! what it has seen in memory: a controller that restarts could take a command captured in the
//! five minutes before again, so one that can should keep its nonces, or its last timestamp,
//! across restarts.

use crate::{MAX_SKEW_S, SIGNATURE_HEADER, TIMESTAMP_HEADER, check_headers, keyed};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};

/// The header naming a command's nonce.
pub const NONCE_HEADER: &str = "x-watchfloor-nonce";

/// What the key of door commands is derived with from the source's secret.
const KEY_LABEL: &[u8] = b"watchfloor/v1 door commands";

/// The key that signs door commands for a controller: it can unlock doors, so it never shows
/// in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct CommandKey([u8; 32]);

impl CommandKey {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for CommandKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CommandKey(..)")
    }
}

/// The key that signs door commands for a controller whose event source has `secret`.
pub fn command_key(secret: &[u8]) -> CommandKey {
    let mut mac = keyed(secret);
    mac.update(KEY_LABEL);
    CommandKey(mac.finalize().into_bytes().into())
}

fn mac(key: &[u8], timestamp: &str, nonce: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = keyed(key);
    for part in [timestamp.as_bytes(), b".", nonce.as_bytes(), b"."] {
        mac.update(part);
    }
    mac.update(body);
    mac
}

/// A command as it goes on the wire: its body and the three headers' values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCommand {
    pub body: Vec<u8>,
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
}

impl SignedCommand {
    /// `body` signed with `key` (a [`command_key`]) at `now_s`; `nonce` is 16 random bytes.
    pub fn new(key: &[u8], now_s: i64, nonce: [u8; 16], body: Vec<u8>) -> Self {
        let timestamp = now_s.to_string();
        let nonce = hex::encode(nonce);
        let signature = format!(
            "sha256={}",
            hex::encode(mac(key, &timestamp, &nonce, &body).finalize().into_bytes())
        );
        Self {
            body,
            timestamp,
            nonce,
            signature,
        }
    }

    /// The headers to send with the body, as (name, value).
    pub fn headers(&self) -> [(&'static str, &str); 3] {
        [
            (TIMESTAMP_HEADER, &self.timestamp),
            (NONCE_HEADER, &self.nonce),
            (SIGNATURE_HEADER, &self.signature),
        ]
    }
}

/// A controller's check of the commands it is sent: the signature, the time, and that no
/// command is taken twice. It remembers the nonces of the last [`MAX_SKEW_S`] × 2 seconds
/// (a command older than that is refused by its time), at most `capacity` of them: when full,
/// it refuses new commands rather than forget one that could be replayed.
pub struct CommandGuard {
    key: CommandKey,
    capacity: usize,
    seen: HashMap<String, i64>,
    order: VecDeque<(i64, String)>,
}

/// The key never shows; the nonces are counted.
impl std::fmt::Debug for CommandGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandGuard")
            .field("capacity", &self.capacity)
            .field("remembered", &self.seen.len())
            .finish_non_exhaustive()
    }
}

impl CommandGuard {
    /// A guard for commands signed with `key`, remembering at most `capacity` nonces.
    pub fn new(key: CommandKey, capacity: usize) -> Self {
        Self {
            key,
            capacity,
            seen: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Takes a command sent with these header values (`None` where a header was missing) at
    /// `now_s`, or says why not.
    pub fn check(
        &mut self,
        timestamp: Option<&str>,
        nonce: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now_s: i64,
    ) -> Result<(), &'static str> {
        let (Some(timestamp), Some(nonce), Some(signature)) = (timestamp, nonce, signature) else {
            return Err("the command is not signed by the hub");
        };
        let expected = check_headers(timestamp, signature, now_s)?;
        if nonce.len() != 32 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("the nonce is not 32 hex digits");
        }
        mac(self.key.as_bytes(), timestamp, nonce, body)
            .verify_slice(&expected)
            .map_err(|_| "signature does not match")?;
        while let Some((at, _)) = self.order.front() {
            if now_s - at <= 2 * MAX_SKEW_S {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        if self.seen.contains_key(nonce) {
            return Err("the command was already taken (a replay)");
        }
        if self.seen.len() >= self.capacity {
            return Err("too many commands in the last 10 minutes");
        }
        self.seen.insert(nonce.to_owned(), now_s);
        self.order.push_back((now_s, nonce.to_owned()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(guard: &mut CommandGuard, c: &SignedCommand, now: i64) -> Result<(), &'static str> {
        guard.check(
            Some(&c.timestamp),
            Some(&c.nonce),
            Some(&c.signature),
            &c.body,
            now,
        )
    }

    #[test]
    fn a_command_is_taken_once_with_the_right_key_body_and_time() {
        let key = command_key(b"secret");
        let mut guard = CommandGuard::new(key.clone(), 100);
        let command = SignedCommand::new(key.as_bytes(), 1000, [7; 16], b"{\"unlock\":1}".to_vec());
        take(&mut guard, &command, 1001).expect("signed and fresh");
        assert_eq!(
            take(&mut guard, &command, 1002),
            Err("the command was already taken (a replay)")
        );
        let other = SignedCommand::new(
            command_key(b"other").as_bytes(),
            1000,
            [8; 16],
            b"{}".to_vec(),
        );
        assert!(take(&mut guard, &other, 1000).is_err(), "another key");
        let mut changed = SignedCommand::new(key.as_bytes(), 1000, [9; 16], b"{}".to_vec());
        changed.body = b"{\"lock\":1}".to_vec();
        assert!(take(&mut guard, &changed, 1000).is_err(), "another body");
        let stale = SignedCommand::new(key.as_bytes(), 1000, [10; 16], b"{}".to_vec());
        assert!(take(&mut guard, &stale, 1000 + MAX_SKEW_S + 1).is_err());
        assert_eq!(
            guard.check(None, None, None, b"{}", 1000),
            Err("the command is not signed by the hub")
        );
    }

    #[test]
    fn the_key_is_not_the_event_secret() {
        // A signed event (`<timestamp>.<body>` with the secret) never verifies as a command.
        let secret = b"secret";
        let event = crate::sign(secret, "1000", b"0123456789abcdef0123456789abcdef.{}");
        let mut guard = CommandGuard::new(command_key(secret), 10);
        assert!(
            guard
                .check(
                    Some("1000"),
                    Some("0123456789abcdef0123456789abcdef"),
                    Some(&event),
                    b"{}",
                    1000
                )
                .is_err()
        );
    }

    #[test]
    fn nonces_are_forgotten_after_their_time_and_a_full_guard_refuses() {
        let key = command_key(b"secret");
        let mut guard = CommandGuard::new(key.clone(), 2);
        for (n, at) in [(1u8, 0i64), (2, 10)] {
            take(
                &mut guard,
                &SignedCommand::new(key.as_bytes(), at, [n; 16], vec![]),
                at,
            )
            .expect("fresh");
        }
        let third = SignedCommand::new(key.as_bytes(), 20, [3; 16], vec![]);
        assert_eq!(
            take(&mut guard, &third, 20),
            Err("too many commands in the last 10 minutes")
        );
        let later = 2 * MAX_SKEW_S + 5;
        let fourth = SignedCommand::new(key.as_bytes(), later, [4; 16], vec![]);
        take(&mut guard, &fourth, later).expect("the first nonce was forgotten");
    }
}
