//! The rights matrix, enforced over HTTP for every role, per site.

use crate::on_both;
use crate::support::{Backend, SITE, TestHub, door_event, first_door};
use hub::model::{Right, Role};
use reqwest::Method;
use serde_json::json;

/// One attempt per right that a role may or may not have.
async fn attempt(hub: &TestHub, token: &str, right: Right, n: usize, alarm: &str) -> u16 {
    let incident = format!("inc-{n}");
    // An incident to act on, made by a supervisor (who may).
    let sup = hub.login("supervisor").await;
    let (status, _) = hub
        .call(
            Method::POST,
            "/api/v1/incidents",
            &sup,
            Some(json!({"id": incident, "site": SITE, "title": "t"})),
        )
        .await;
    assert_eq!(status, 200);
    let door = first_door();
    let (status, _) = match right {
        Right::View => {
            hub.call(Method::GET, &format!("/api/v1/sites/{SITE}"), token, None)
                .await
        }
        Right::ReportView => {
            hub.call(
                Method::POST,
                "/api/v1/audit/camera-viewed",
                token,
                Some(json!({"site": SITE, "camera": "cam01"})),
            )
            .await
        }
        Right::ShareLayout => {
            hub.call(
                Method::PUT,
                &format!("/api/v1/layouts/shared-{n}"),
                token,
                Some(json!({
                    "name": "Shared",
                    "shared_site": SITE,
                    "wall": {"name": "1", "tiles": [{"x": 0, "y": 0, "w": 1, "h": 1}]},
                    "cameras": ["cam01"],
                })),
            )
            .await
        }
        Right::AcknowledgeAlarm => {
            hub.call(
                Method::POST,
                &format!("/api/v1/alarms/{alarm}/acknowledge"),
                token,
                Some(json!({"request_id": format!("ack-{n}"), "comment": "seen"})),
            )
            .await
        }
        Right::ForwardAlarm => {
            hub.call(
                Method::POST,
                &format!("/api/v1/alarms/{alarm}/forward"),
                token,
                Some(json!({"request_id": format!("fwd-{n}"), "to": "supervisor"})),
            )
            .await
        }
        Right::CloseAlarm => {
            hub.call(
                Method::POST,
                &format!("/api/v1/alarms/{alarm}/close"),
                token,
                Some(json!({"request_id": format!("close-{n}"), "comment": "done"})),
            )
            .await
        }
        Right::WriteIncident => {
            hub.call(
                Method::POST,
                &format!("/api/v1/incidents/{incident}/notes"),
                token,
                Some(json!({"id": format!("note-{n}"), "text": "a note"})),
            )
            .await
        }
        Right::ManageIncident => {
            hub.call(
                Method::PATCH,
                &format!("/api/v1/incidents/{incident}"),
                token,
                Some(json!({"request_id": format!("patch-{n}"), "status": "in-progress"})),
            )
            .await
        }
        Right::DeleteIncident => {
            hub.call(
                Method::DELETE,
                &format!("/api/v1/incidents/{incident}"),
                token,
                None,
            )
            .await
        }
        // No controller is configured in this test: allowed roles get past the check to 409.
        Right::DoorUnlock => {
            hub.call(
                Method::POST,
                &format!("/api/v1/sites/{SITE}/doors/{door}/commands"),
                token,
                Some(json!({"request_id": format!("unlock-{n}"), "command": "momentary-unlock"})),
            )
            .await
        }
        Right::Lockdown => {
            hub.call(
                Method::POST,
                &format!("/api/v1/sites/{SITE}/lockdown"),
                token,
                Some(json!({"request_id": format!("lock-{n}"), "on": true})),
            )
            .await
        }
        Right::ReadAudit => {
            hub.call(
                Method::GET,
                &format!("/api/v1/audit?site={SITE}"),
                token,
                None,
            )
            .await
        }
        Right::Configure => {
            let rules = hub
                .call(
                    Method::GET,
                    &format!("/api/v1/sites/{SITE}/rules"),
                    token,
                    None,
                )
                .await
                .1;
            hub.call(
                Method::PUT,
                &format!("/api/v1/sites/{SITE}/rules"),
                token,
                Some(rules),
            )
            .await
        }
        Right::ManageUsers => {
            hub.call(
                Method::POST,
                "/api/v1/users",
                token,
                Some(json!({
                    "id": format!("new-{n}"), "username": format!("new{n}"), "display_name": "New",
                    "password": "long enough password", "grants": [{"site": SITE, "role": "guard"}]
                })),
            )
            .await
        }
        Right::ItSettings => {
            hub.call(
                Method::PUT,
                "/api/v1/settings",
                token,
                Some(json!({"session_minutes": 600})),
            )
            .await
        }
    };
    status
}

async fn rights_matrix(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let secret = hub.source("rights-src").await;
    let door = first_door();
    let supervisor = hub.login("supervisor").await;
    let mut n = 0;
    for hub::model::RightsRow { role, rights } in hub::model::rights_matrix() {
        let token = hub.login(role.as_str()).await;
        // Sharing a layout is checked in the layouts tests.
        let all = Right::ALL.into_iter().filter(|r| *r != Right::ShareLayout);
        for right in all {
            n += 1;
            // A fresh alarm for each attempt, so earlier acknowledgements do not interfere.
            let event = door_event(&format!("forced-{n}"), &door, "DoorAlarm", "DoorForcedOpen");
            let (status, _) = hub.post_events("rights-src", &secret, &event).await;
            assert_eq!(status, 200);
            let alarms = hub
                .call(
                    Method::GET,
                    &format!("/api/v1/alarms?site={SITE}&state=new"),
                    &token,
                    None,
                )
                .await
                .1;
            let alarm = alarms
                .as_array()
                .and_then(|a| a.iter().find(|x| x["event"] == format!("forced-{n}")))
                .map(|a| a["id"].as_str().expect("id").to_owned())
                .expect("the forced door raised an alarm");
            let status = attempt(&hub, &token, right, n, &alarm).await;
            let expected_allowed = rights.contains(&right);
            if expected_allowed {
                assert!(
                    status < 300
                        || (status == 409 && matches!(right, Right::DoorUnlock | Right::Lockdown)),
                    "{} should be allowed {right:?}, got {status}",
                    role.as_str()
                );
            } else {
                assert_eq!(status, 403, "{} must not {right:?}", role.as_str());
            }
            // Closed (unless the attempt closed it), so that the next forced door raises a
            // new alarm rather than counting a repeat on this one.
            hub.call(
                Method::POST,
                &format!("/api/v1/alarms/{alarm}/close"),
                &supervisor,
                Some(json!({"request_id": format!("reset-{n}"), "comment": "next attempt"})),
            )
            .await;
        }
    }
    // The issue's own examples, spelled out.
    assert!(!Role::Guard.allows(Right::ManageUsers));
    assert!(!Role::Guard.allows(Right::DeleteIncident));
    assert!(!Role::Manager.allows(Right::ItSettings));

    // Per site: a guard of another site sees nothing of this one, not even that it exists.
    let other = hub.login("other-guard").await;
    let (status, sites) = hub.call(Method::GET, "/api/v1/sites", &other, None).await;
    assert_eq!((status, sites), (200, json!([])));
    let (status, _) = hub
        .call(Method::GET, &format!("/api/v1/sites/{SITE}"), &other, None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = hub
        .call(
            Method::GET,
            &format!("/api/v1/events?site={SITE}"),
            &other,
            None,
        )
        .await;
    assert_eq!(status, 404);

    // No token, a wrong token, a revoked session: 401.
    let (status, body) = hub.call(Method::GET, "/api/v1/me", "nonsense", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let guard = hub.login("guard").await;
    let admin = hub.login("it-admin").await;
    let (status, _) = hub
        .call(
            Method::DELETE,
            "/api/v1/users/u-guard/sessions",
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = hub.call(Method::GET, "/api/v1/me", &guard, None).await;
    assert_eq!(status, 401, "a revoked session no longer works");
    hub.running.stop().await;
}
on_both!(rights_matrix);

async fn login_is_rate_limited_and_audited(backend: Backend) {
    let hub = TestHub::start(backend).await;
    for _ in 0..hub::auth::MAX_FAILURES {
        let response = hub
            .http
            .post(hub.url("/api/v1/auth/login"))
            .json(&json!({"username": "guard", "password": "wrong password"}))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), 401);
    }
    let response = hub
        .http
        .post(hub.url("/api/v1/auth/login"))
        .json(&json!({"username": "guard", "password": crate::support::PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(
        response.status(),
        429,
        "even the right password waits out the limit"
    );
    assert!(response.headers().contains_key("retry-after"));
    let admin = hub.login("it-admin").await;
    let (_, audit) = hub
        .call(
            Method::GET,
            "/api/v1/audit?action=auth.login-failed",
            &admin,
            None,
        )
        .await;
    assert_eq!(
        audit.as_array().map(Vec::len),
        Some(hub::auth::MAX_FAILURES)
    );
    assert!(
        !audit.to_string().contains("wrong password"),
        "passwords never reach the audit"
    );

    // CORS: only the configured origin is answered.
    let allowed = hub
        .http
        .get(hub.url("/api/v1/health"))
        .header("origin", "https://console.example")
        .send()
        .await
        .expect("cors");
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(&b"https://console.example"[..])
    );
    let refused = hub
        .http
        .get(hub.url("/api/v1/health"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("cors");
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    hub.running.stop().await;
}
on_both!(login_is_rate_limited_and_audited);
