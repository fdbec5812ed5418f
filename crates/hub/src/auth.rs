//! Passwords (argon2id), bearer tokens (random, stored only as their SHA-256) and the log-in
//! rate limit.

use crate::{HubError, Result};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::Mutex;
use rand::Rng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The shortest password the hub accepts.
pub const MIN_PASSWORD: usize = 8;

/// An argon2id hash in PHC format. Slow on purpose: call it off the async workers.
pub fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(HubError::BadRequest(format!(
            "a password needs at least {MIN_PASSWORD} characters"
        )));
    }
    let salt_bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| HubError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HubError::Internal(format!("cannot hash password: {e}")))
}

/// Whether `password` matches `hash`; a malformed stored hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A new bearer token and the hash under which it is stored.
pub fn new_token() -> (String, String) {
    let bytes: [u8; 32] = rand::rng().random();
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Failed log-ins allowed for one user name from one client (an address, or an IPv6 /64)
/// within [`WINDOW_MS`]; then that client is refused for that name until the window passes,
/// the right password too. A guard at another desk is not: nobody can lock a user out from
/// elsewhere.
pub const MAX_FAILURES: usize = 5;
/// Failed log-ins allowed per client, whatever the names, within the window: higher, since a
/// control room shares one address.
pub const MAX_CLIENT_FAILURES: usize = 30;
pub const WINDOW_MS: i64 = 60_000;
/// Failures of one user name from anywhere within [`USER_WINDOW_MS`] before each further
/// attempt for it waits: [`BACKOFF_FIRST_MS`], doubling with each failure beyond, at most
/// [`BACKOFF_LONGEST_MS`]. Each guess from elsewhere then takes that long (guesses side by
/// side still run side by side: the per-address limits bound those); the right password
/// still passes, after the wait.
pub const USER_BACKOFF_AFTER: usize = 10;
pub const USER_WINDOW_MS: i64 = 15 * 60_000;
pub const BACKOFF_FIRST_MS: i64 = 250;
pub const BACKOFF_LONGEST_MS: i64 = 8_000;
/// Keys counted at once; when full, the one whose last failure is oldest is forgotten (never
/// "stop counting", which would switch the limit off for whoever fills the table).
pub const MAX_KEYS: usize = 10_000;

/// The client a log-in is counted against: its address, or for IPv6 its /64 (one host holds
/// a whole /64 and could otherwise take a new address for every guess).
pub fn client_bucket(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Counts failed log-ins per key in sliding windows; times are passed in.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<i64>>>,
}

impl LoginLimiter {
    /// Refuses when `key` failed `max` times within the last `window_ms`.
    pub fn check(&self, key: &str, max: usize, window_ms: i64, now: i64) -> Result<()> {
        check_in(&mut self.failures.lock(), key, max, window_ms, now)
    }

    /// Checks each of `limited` (a key and the most failures it may have within `window_ms`)
    /// and, when none is over, counts a failure for each of `counted`, all under one lock: of
    /// attempts sent side by side, no more pass than the limit allows.
    pub fn check_and_count(
        &self,
        limited: &[(&str, usize)],
        counted: &[&str],
        window_ms: i64,
        now: i64,
    ) -> Result<()> {
        let mut failures = self.failures.lock();
        for (key, max) in limited {
            check_in(&mut failures, key, *max, window_ms, now)?;
        }
        for key in counted {
            fail_in(&mut failures, key, now);
        }
        Ok(())
    }

    /// How long an attempt for user `key` waits before it is checked (see
    /// [`USER_BACKOFF_AFTER`]).
    pub fn backoff_ms(&self, key: &str, now: i64) -> i64 {
        let failures = self.failures.lock().get(key).map_or(0, |times| {
            times.iter().filter(|t| now - **t < USER_WINDOW_MS).count()
        });
        if failures < USER_BACKOFF_AFTER {
            return 0;
        }
        let doublings = (failures - USER_BACKOFF_AFTER).min(16) as u32;
        (BACKOFF_FIRST_MS << doublings).min(BACKOFF_LONGEST_MS)
    }

    pub fn failed(&self, key: &str, now: i64) {
        fail_in(&mut self.failures.lock(), key, now);
    }

    /// Takes back one attempt counted for `key` (a log-in that succeeded, or was not checked,
    /// counted beforehand).
    pub fn forgive_one(&self, key: &str) {
        let mut failures = self.failures.lock();
        if let Some(times) = failures.get_mut(key) {
            times.pop();
            if times.is_empty() {
                failures.remove(key);
            }
        }
    }

    pub fn succeeded(&self, key: &str) {
        self.failures.lock().remove(key);
    }

    /// Keys counted now.
    pub fn keys(&self) -> usize {
        self.failures.lock().len()
    }
}

fn check_in(
    failures: &mut HashMap<String, Vec<i64>>,
    key: &str,
    max: usize,
    window_ms: i64,
    now: i64,
) -> Result<()> {
    let Some(times) = failures.get_mut(key) else {
        return Ok(());
    };
    times.retain(|t| now - t < window_ms);
    if times.len() >= max {
        let oldest = times.iter().min().copied().unwrap_or(now);
        let retry_after_s = ((oldest + window_ms - now).max(1000) / 1000) as u64;
        return Err(HubError::RateLimited { retry_after_s });
    }
    Ok(())
}

fn fail_in(failures: &mut HashMap<String, Vec<i64>>, key: &str, now: i64) {
    if failures.len() >= MAX_KEYS && !failures.contains_key(key) {
        failures.retain(|_, times| times.iter().any(|t| now - t < USER_WINDOW_MS));
        if failures.len() >= MAX_KEYS {
            let stalest = failures
                .iter()
                .min_by_key(|(_, times)| times.iter().max().copied().unwrap_or(i64::MIN))
                .map(|(key, _)| key.clone());
            if let Some(stalest) = stalest {
                failures.remove(&stalest);
            }
        }
    }
    let times = failures.entry(key.to_owned()).or_default();
    times.push(now);
    // A key's count never needs more than the longest window's worth (and its limit).
    if times.len() > 4 * USER_BACKOFF_AFTER {
        times.remove(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_short_ones_are_refused() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "wrong horse"));
        assert!(!verify_password("garbage", "correct horse"));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, hash_a) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), hash_a);
        assert!(!hash_a.contains(&a));
    }

    #[test]
    fn limiter_refuses_after_failures_and_forgives_with_time() {
        let limiter = LoginLimiter::default();
        for i in 0..MAX_FAILURES {
            limiter
                .check("alice", MAX_FAILURES, WINDOW_MS, i as i64)
                .expect("allowed");
            limiter.failed("alice", i as i64);
        }
        assert!(matches!(
            limiter.check("alice", MAX_FAILURES, WINDOW_MS, 10),
            Err(HubError::RateLimited { .. })
        ));
        limiter
            .check("bob", MAX_FAILURES, WINDOW_MS, 10)
            .expect("others unaffected");
        limiter
            .check("alice", MAX_FAILURES, WINDOW_MS, WINDOW_MS + 10)
            .expect("window passed");
    }

    #[test]
    fn a_user_failing_from_everywhere_backs_off_doubling_to_a_bound() {
        let limiter = LoginLimiter::default();
        for i in 0..USER_BACKOFF_AFTER {
            assert_eq!(limiter.backoff_ms("user:guard", i as i64), 0);
            limiter.failed("user:guard", i as i64);
        }
        assert_eq!(limiter.backoff_ms("user:guard", 100), BACKOFF_FIRST_MS);
        limiter.failed("user:guard", 101);
        assert_eq!(limiter.backoff_ms("user:guard", 102), 2 * BACKOFF_FIRST_MS);
        for i in 0..30 {
            limiter.failed("user:guard", 200 + i);
        }
        assert_eq!(limiter.backoff_ms("user:guard", 300), BACKOFF_LONGEST_MS);
        assert_eq!(
            limiter.backoff_ms("user:guard", 300 + USER_WINDOW_MS),
            0,
            "forgotten with time"
        );
    }

    #[test]
    fn a_full_table_forgets_its_stalest_key_and_keeps_counting() {
        let limiter = LoginLimiter::default();
        for i in 0..MAX_KEYS {
            limiter.failed(
                &format!("client:10.0.{}.{}", i / 256, i % 256),
                1000 + i as i64,
            );
        }
        assert_eq!(limiter.keys(), MAX_KEYS);
        for i in 0..MAX_FAILURES {
            limiter.failed("pair:guard@192.0.2.1", 20_000 + i as i64);
        }
        assert_eq!(limiter.keys(), MAX_KEYS);
        let counted = |key: &str| limiter.check(key, 1, USER_WINDOW_MS, 20_010).is_err();
        assert!(!counted("client:10.0.0.0"), "the stalest went");
        assert!(counted("client:10.0.0.1"), "the next stalest stays");
        assert!(
            limiter
                .check("pair:guard@192.0.2.1", MAX_FAILURES, WINDOW_MS, 20_010)
                .is_err(),
            "the new key is still counted"
        );
    }

    #[test]
    fn an_ipv6_host_counts_as_its_64() {
        let one: std::net::IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let other: std::net::IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let elsewhere: std::net::IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_bucket(one), client_bucket(other));
        assert_ne!(client_bucket(one), client_bucket(elsewhere));
        let mapped: std::net::IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(client_bucket(mapped), "192.0.2.7");
    }
}
