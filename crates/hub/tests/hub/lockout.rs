//! Sign-in that cannot be turned against the guards: wrong passwords sent for a guard's name
//! from other addresses never keep the guard out (they slow the name's attempts down, and the
//! right password passes); a limiter table filled with other keys still counts a brute force.
//! Each of these kept the guard out, or let the guessing run unlimited, before the fix.

use crate::support::{Backend, PASSWORD, TestHub};
use hub::HubError;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_from_elsewhere_never_lock_a_guard_out() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let domain = &hub.running.hub;
    // Enough failures for the name to back off: five from each of two addresses (each then
    // refused for the name), one more from a third.
    let mut refused_pairs = 0;
    for attacker in ["198.51.100.7", "198.51.100.8"] {
        for _ in 0..hub::auth::MAX_FAILURES {
            let guess = domain.login("guard", "not the password", attacker).await;
            assert!(matches!(guess, Err(HubError::Unauthenticated)), "{guess:?}");
        }
        // That address is refused for the name, the right password too.
        match domain.login("guard", PASSWORD, attacker).await {
            Err(HubError::RateLimited { .. }) => refused_pairs += 1,
            other => panic!("the attacker's address is refused for the name: {other:?}"),
        }
    }
    assert_eq!(refused_pairs, 2);
    let guess = domain
        .login("guard", "not the password", "203.0.113.5")
        .await;
    assert!(matches!(guess, Err(HubError::Unauthenticated)), "{guess:?}");
    assert!(
        domain.limiter.backoff_ms("user:guard", domain.now()) > 0,
        "the name backs off"
    );
    // The guard, at their own desk, signs in: after the back-off, not refused.
    let started = Instant::now();
    let session = domain
        .login("guard", PASSWORD, "192.0.2.10")
        .await
        .expect("the guard signs in");
    assert!(!session.token.is_empty());
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(hub::auth::BACKOFF_FIRST_MS as u64),
        "attempts for a name under attack wait: {took:?}"
    );
    assert!(
        took < Duration::from_millis(hub::auth::BACKOFF_LONGEST_MS as u64 + 2000),
        "and no longer than the longest back-off: {took:?}"
    );
    // Another user, from an attacker's address, is not held back by the guard's name.
    domain
        .login("manager", PASSWORD, "198.51.100.7")
        .await
        .expect("another name from that address");
    hub.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limiter_table_filled_with_other_keys_still_counts_a_brute_force() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let domain = &hub.running.hub;
    // Someone fills the table with recent failures of their own keys (just before the guesses,
    // so none of theirs ties with the guesses' keys for the stalest).
    let now = domain.now() - 1;
    for i in 0..hub::auth::MAX_KEYS {
        domain.limiter.failed(
            &format!("client:10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255),
            now,
        );
    }
    // A brute force on the guard from one address is still counted and refused.
    for _ in 0..hub::auth::MAX_FAILURES {
        let guess = domain
            .login("guard", "not the password", "198.51.100.7")
            .await;
        assert!(matches!(guess, Err(HubError::Unauthenticated)), "{guess:?}");
    }
    let next = domain.login("guard", "another guess", "198.51.100.7").await;
    assert!(
        matches!(next, Err(HubError::RateLimited { .. })),
        "the sixth guess is refused: {next:?}"
    );
    assert!(domain.limiter.keys() <= hub::auth::MAX_KEYS);
    hub.running.stop().await;
}

/// Signs in as the guard through a proxy that says the client is `client`; answers the status.
async fn login_via(hub: &TestHub, client: &str, password: &str) -> u16 {
    hub.http
        .post(hub.url("/api/v1/auth/login"))
        .header("x-forwarded-for", format!("192.0.2.200, {client}"))
        .json(&serde_json::json!({"username": "guard", "password": password}))
        .send()
        .await
        .expect("the hub answers")
        .status()
        .as_u16()
}

/// Behind a reverse proxy every request comes from the proxy: without believing its
/// `X-Forwarded-For`, five wrong passwords from one client locked the guard out for everyone
/// behind it. The header is believed from a configured proxy only (here the tests' own
/// address), and only its own last entry; from anyone else it changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_client_is_limited_on_its_own() {
    let proxy = hub::edge::Edge {
        trusted_proxies: vec!["127.0.0.1/32".parse().expect("a range")],
        ..Default::default()
    };
    let hub = TestHub::start_with_edge(proxy).await;
    for _ in 0..hub::auth::MAX_FAILURES {
        assert_eq!(
            login_via(&hub, "203.0.113.7", "not the password").await,
            401
        );
    }
    assert_eq!(
        login_via(&hub, "203.0.113.7", PASSWORD).await,
        429,
        "the guessing client is refused for the name"
    );
    assert_eq!(
        login_via(&hub, "198.51.100.9", PASSWORD).await,
        200,
        "the guard at another desk behind the same proxy signs in"
    );
    hub.running.stop().await;

    // No proxy configured: the header is the client's own claim, and changes nothing.
    let hub = TestHub::start(Backend::Sqlite).await;
    for _ in 0..hub::auth::MAX_FAILURES {
        assert_eq!(
            login_via(&hub, "203.0.113.7", "not the password").await,
            401
        );
    }
    assert_eq!(
        login_via(&hub, "198.51.100.9", PASSWORD).await,
        429,
        "a header naming another client does not escape the limit"
    );
    hub.running.stop().await;
}
