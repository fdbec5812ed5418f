//! Accounts an IT admin can disable, enable again and reset, passwords their users change, and
//! sessions listed and ended. Before, `disabled_at` was read but nothing wrote it: a leaver's
//! account, and every session of it, stayed live until someone edited the database.

use crate::on_both;
use crate::support::{Backend, PASSWORD, TestHub};
use reqwest::Method;
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "a longer passphrase now";

async fn login_with(hub: &TestHub, username: &str, password: &str) -> (u16, Value) {
    let response = hub
        .http
        .post(hub.url("/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("the hub answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn sessions(hub: &TestHub, token: &str, user: &str) -> Vec<Value> {
    hub.list(&format!("/api/v1/users/{user}/sessions"), token)
        .await
}

async fn audited(hub: &TestHub, admin: &str, action: &str) -> Vec<Value> {
    hub.list(&format!("/api/v1/audit?action={action}"), admin)
        .await
}

async fn an_it_admin_disables_enables_and_resets_accounts(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let admin = hub.login("it-admin").await;
    let guard = hub.login("guard").await;

    // Nobody but IT: a supervisor cannot disable, enable or reset a guard, nor see or end
    // their sessions.
    let supervisor = hub.login("supervisor").await;
    for (method, path, body) in [
        (Method::POST, "/api/v1/users/u-guard/disable", None),
        (Method::POST, "/api/v1/users/u-guard/enable", None),
        (
            Method::PUT,
            "/api/v1/users/u-guard/password",
            Some(json!({"password": NEW_PASSWORD})),
        ),
        (Method::GET, "/api/v1/users/u-guard/sessions", None),
        (
            Method::DELETE,
            "/api/v1/users/u-guard/sessions/0123456789abcdef",
            None,
        ),
    ] {
        let (status, _) = hub.call(method, path, &supervisor, body).await;
        assert_eq!(status, 403, "{path}");
    }

    // Disabled: the guard's live session stops at once, and the password no longer signs in.
    // The feed the guard follows closes as it commits (it re-checked only every minute).
    let (mut feed, _) = crate::feed::subscribe(&hub, &guard, None).await;
    let (status, user) = hub
        .call(Method::POST, "/api/v1/users/u-guard/disable", &admin, None)
        .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["disabled"], true);
    let closing = std::time::Instant::now();
    let said = crate::feed::next_json(&mut feed).await;
    assert_eq!(
        said.as_ref().map(|m| (&m["type"], &m["code"])),
        Some((&json!("error"), &json!("unauthenticated"))),
        "a disabled user's feed: {said:?}"
    );
    assert!(
        crate::feed::next_json(&mut feed).await.is_none(),
        "then closed"
    );
    assert!(
        closing.elapsed() < std::time::Duration::from_secs(5),
        "the feed closed {:?} after the account was disabled",
        closing.elapsed()
    );
    let (status, _) = hub.call(Method::GET, "/api/v1/me", &guard, None).await;
    assert_eq!(status, 401, "the session ended with the account");
    assert_eq!(login_with(&hub, "guard", PASSWORD).await.0, 401);
    // Enabled again: the password signs in; the old session stays ended.
    let (status, user) = hub
        .call(Method::POST, "/api/v1/users/u-guard/enable", &admin, None)
        .await;
    assert_eq!((status, user["disabled"].as_bool()), (200, Some(false)));
    let (status, _) = hub.call(Method::GET, "/api/v1/me", &guard, None).await;
    assert_eq!(status, 401);
    assert_eq!(login_with(&hub, "guard", PASSWORD).await.0, 200);

    // An IT admin cannot disable their own account, nor take away the last grant of IT admin
    // for every site (nobody might be left to undo it).
    let (status, body) = hub
        .call(
            Method::POST,
            "/api/v1/users/u-it-admin/disable",
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = hub
        .call(
            Method::PUT,
            "/api/v1/users/u-it-admin/grants",
            &admin,
            Some(json!({"grants": [{"site": "*", "role": "manager"}]})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, me) = hub.call(Method::GET, "/api/v1/me", &admin, None).await;
    assert_eq!(status, 200);
    assert!(me.to_string().contains("it-admin"), "still IT admin: {me}");

    // Reset: the old password and every session end; the new password signs in. Too short
    // a password is refused.
    let guard = hub.login("guard").await;
    let (status, _) = hub
        .call(
            Method::PUT,
            "/api/v1/users/u-guard/password",
            &admin,
            Some(json!({"password": "short"})),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = hub
        .call(
            Method::PUT,
            "/api/v1/users/u-guard/password",
            &admin,
            Some(json!({"password": NEW_PASSWORD})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = hub.call(Method::GET, "/api/v1/me", &guard, None).await;
    assert_eq!(status, 401, "the reset ended the guard's sessions");
    assert_eq!(login_with(&hub, "guard", PASSWORD).await.0, 401);
    assert_eq!(login_with(&hub, "guard", NEW_PASSWORD).await.0, 200);

    // Each step is in the audit trail.
    for action in ["user.disable", "user.enable", "user.password-reset"] {
        let records = audited(&hub, &admin, action).await;
        assert_eq!(records.len(), 1, "{action}: {records:?}");
        assert_eq!(records[0]["target"], "u-guard");
    }
    let trail = audited(&hub, &admin, "user.password-reset").await;
    assert!(!format!("{trail:?}").contains("passphrase"), "{trail:?}");
    hub.running.stop().await;
}
on_both!(an_it_admin_disables_enables_and_resets_accounts);

async fn users_change_their_password_and_see_and_end_their_sessions(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let desk = hub.login("guard").await;
    let laptop = hub.login("guard").await;

    // Listed, newest first, with where each signed in from and which one is asking.
    let listed = sessions(&hub, &desk, "u-guard").await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(
        listed.iter().all(|s| s["client"] == "127.0.0.1"),
        "{listed:?}"
    );
    // Not someone else's.
    let (status, _) = hub
        .call(Method::GET, "/api/v1/users/u-manager/sessions", &desk, None)
        .await;
    assert_eq!(status, 403);

    // A wrong current password changes nothing.
    let change = |current: &str| json!({"current": current, "password": NEW_PASSWORD});
    let (status, body) = hub
        .call(
            Method::PUT,
            "/api/v1/me/password",
            &desk,
            Some(change("not the password")),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(login_with(&hub, "guard", PASSWORD).await.0, 200);

    // Changed: the desk's session stays, the laptop's and the one just opened end; so does the
    // desk's feed, while the laptop's closes.
    let (mut desk_feed, _) = crate::feed::subscribe(&hub, &desk, None).await;
    let (mut laptop_feed, _) = crate::feed::subscribe(&hub, &laptop, None).await;
    let (status, body) = hub
        .call(
            Method::PUT,
            "/api/v1/me/password",
            &desk,
            Some(change(PASSWORD)),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = hub.call(Method::GET, "/api/v1/me", &desk, None).await;
    assert_eq!(status, 200, "the session that changed it stays");
    let refused = crate::feed::next_json(&mut laptop_feed).await;
    assert_eq!(
        refused.as_ref().map(|m| (&m["type"], &m["code"])),
        Some((&json!("error"), &json!("unauthenticated"))),
        "the laptop's feed: {refused:?}"
    );
    let (status, _) = hub
        .call(
            Method::POST,
            "/api/v1/incidents",
            &desk,
            Some(json!({"id": "inc-after-change", "site": crate::support::SITE, "title": "Still here"})),
        )
        .await;
    assert_eq!(status, 200);
    let heard = crate::feed::next_json(&mut desk_feed).await;
    assert_eq!(
        heard.as_ref().map(|m| &m["type"]),
        Some(&json!("change")),
        "the desk's feed goes on: {heard:?}"
    );
    let admin = hub.login("it-admin").await;
    let changed = audited(&hub, &admin, "user.password-change").await;
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(
        !format!("{changed:?}").contains("passphrase"),
        "{changed:?}"
    );
    let (status, _) = hub.call(Method::GET, "/api/v1/me", &laptop, None).await;
    assert_eq!(status, 401, "the others ended");
    assert_eq!(login_with(&hub, "guard", PASSWORD).await.0, 401);
    let (status, fresh) = login_with(&hub, "guard", NEW_PASSWORD).await;
    assert_eq!(status, 200);
    let phone = fresh["token"].as_str().expect("a token").to_owned();

    // One session ended by its handle, by the user; an IT admin may end anyone's.
    let listed = sessions(&hub, &desk, "u-guard").await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    let other = listed
        .iter()
        .find(|s| s["current"] == false)
        .and_then(|s| s["id"].as_str())
        .expect("the phone's session")
        .to_owned();
    let (status, _) = hub
        .call(
            Method::DELETE,
            &format!("/api/v1/users/u-guard/sessions/{other}"),
            &desk,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = hub.call(Method::GET, "/api/v1/me", &phone, None).await;
    assert_eq!(status, 401);
    let (status, _) = hub
        .call(
            Method::DELETE,
            &format!("/api/v1/users/u-guard/sessions/{other}"),
            &desk,
            None,
        )
        .await;
    assert_eq!(status, 404, "already ended");
    let own = sessions(&hub, &admin, "u-guard").await;
    let desk_id = own[0]["id"]
        .as_str()
        .expect("the desk's session")
        .to_owned();
    let (status, _) = hub
        .call(
            Method::DELETE,
            &format!("/api/v1/users/u-guard/sessions/{desk_id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = hub.call(Method::GET, "/api/v1/me", &desk, None).await;
    assert_eq!(status, 401);

    // Guessing the password through this door counts as failed log-ins do, even sent side by
    // side: no more than five guesses are checked, and then the right one is refused from that
    // address too.
    let (_, late) = login_with(&hub, "guard", NEW_PASSWORD).await;
    let late = late["token"].as_str().expect("a token").to_owned();
    let again = json!({"current": "a guess", "password": "yet another passphrase"});
    let guesses = (0..10).map(|_| {
        hub.call(
            Method::PUT,
            "/api/v1/me/password",
            &late,
            Some(again.clone()),
        )
    });
    let answers: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    let checked = answers.iter().filter(|s| **s == 403).count();
    assert!(
        (1..=hub::auth::MAX_FAILURES).contains(&checked),
        "{answers:?}"
    );
    assert!(
        answers.iter().all(|s| *s == 403 || *s == 429),
        "{answers:?}"
    );
    let right = json!({"current": NEW_PASSWORD, "password": "yet another passphrase"});
    let (status, _) = hub
        .call(Method::PUT, "/api/v1/me/password", &late, Some(right))
        .await;
    assert_eq!(status, 429);
    hub.running.stop().await;
}
on_both!(users_change_their_password_and_see_and_end_their_sessions);

/// The way back when no IT admin can sign in (the only one's password forgotten, its account
/// disabled): with the hub stopped, `user-password` and `user-enable` on its database, from a
/// shell; a user that does not exist is an error, not a new account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_enables_and_resets_an_account_when_nobody_can_sign_in() {
    let data = crate::support::scratch("accounts-cli");
    let db = format!("sqlite://{}/hub.db", data.display());
    let hub_cli = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_watchfloor-hub"))
            .args(args)
            .args(["--db", &db, "--data-dir"])
            .arg(&data)
            .env_remove("WATCHFLOOR_HUB_CONFIG")
            .output()
            .expect("watchfloor-hub runs");
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let password = data.join("pw");
    std::fs::write(&password, "the first admin password\n").expect("a password file");
    let password = password.to_string_lossy().into_owned();
    hub_cli(&[
        "user-add",
        "--username",
        "admin",
        "--role",
        "it-admin",
        "--password-file",
        &password,
    ]);
    {
        let clock: hub::SharedClock = std::sync::Arc::new(hub::SystemClock);
        let opened = hub::db::Db::open(&db, clock.as_ref()).await.expect("open");
        sqlx::query("UPDATE users SET disabled_at = 1 WHERE username = 'admin'")
            .execute(opened.pool())
            .await
            .expect("disabled behind the hub's back");
        opened.close().await;
    }
    let fresh = data.join("pw2");
    std::fs::write(&fresh, "a brand new admin password\n").expect("a password file");
    let said = hub_cli(&[
        "user-password",
        "--username",
        "admin",
        "--password-file",
        &fresh.to_string_lossy(),
    ]);
    assert!(said.contains("password set"), "{said}");
    let enabled: Value = serde_json::from_str(&hub_cli(&["user-enable", "--username", "admin"]))
        .expect("the user as JSON");
    assert_eq!(enabled["disabled"], false);
    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_watchfloor-hub"))
        .args([
            "user-enable",
            "--username",
            "nobody",
            "--db",
            &db,
            "--data-dir",
        ])
        .arg(&data)
        .env_remove("WATCHFLOOR_HUB_CONFIG")
        .output()
        .expect("watchfloor-hub runs");
    assert!(!missing.status.success(), "no such user");

    let clock: hub::SharedClock = std::sync::Arc::new(hub::SystemClock);
    let running = hub::serve::start(
        hub::serve::ServeConfig {
            database: db.clone(),
            listen: "127.0.0.1:0".parse().expect("addr"),
            data_dir: data.clone(),
            tls: hub::serve::Tls::Off,
            cors_origins: Vec::new(),
            mqtt: None,
            console: None,
            edge: Default::default(),
        },
        clock,
    )
    .await
    .expect("the hub serves");
    let hub = TestHub {
        running,
        http: reqwest::Client::new(),
    };
    assert_eq!(
        login_with(&hub, "admin", "the first admin password")
            .await
            .0,
        401
    );
    assert_eq!(
        login_with(&hub, "admin", "a brand new admin password")
            .await
            .0,
        200
    );
    hub.running.stop().await;
}
