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

/// Failed log-ins allowed per user name within [`WINDOW_MS`].
pub const MAX_FAILURES: usize = 5;
/// Failed log-ins allowed per client address: higher, since a control room shares one.
pub const MAX_CLIENT_FAILURES: usize = 30;
pub const WINDOW_MS: i64 = 60_000;
const MAX_KEYS: usize = 10_000;

/// Counts failed log-ins per key in a sliding window; times are passed in.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<i64>>>,
}

impl LoginLimiter {
    /// Refuses when `key` failed `max` times recently.
    pub fn check(&self, key: &str, max: usize, now: i64) -> Result<()> {
        let mut failures = self.failures.lock();
        let Some(times) = failures.get_mut(key) else {
            return Ok(());
        };
        times.retain(|t| now - t < WINDOW_MS);
        if times.len() >= max {
            let oldest = times.iter().min().copied().unwrap_or(now);
            let retry_after_s = ((oldest + WINDOW_MS - now).max(1000) / 1000) as u64;
            return Err(HubError::RateLimited { retry_after_s });
        }
        Ok(())
    }

    pub fn failed(&self, key: &str, now: i64) {
        let mut failures = self.failures.lock();
        if failures.len() >= MAX_KEYS {
            failures.retain(|_, times| times.iter().any(|t| now - t < WINDOW_MS));
        }
        if failures.len() < MAX_KEYS || failures.contains_key(key) {
            failures.entry(key.to_owned()).or_default().push(now);
        }
    }

    /// Takes back one attempt counted for `key` (a log-in that succeeded, counted beforehand).
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
                .check("alice", MAX_FAILURES, i as i64)
                .expect("allowed");
            limiter.failed("alice", i as i64);
        }
        assert!(matches!(
            limiter.check("alice", MAX_FAILURES, 10),
            Err(HubError::RateLimited { .. })
        ));
        limiter
            .check("bob", MAX_FAILURES, 10)
            .expect("others unaffected");
        limiter
            .check("alice", MAX_FAILURES, WINDOW_MS + 10)
            .expect("window passed");
    }
}
