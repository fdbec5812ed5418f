//! Door commands that nobody but the hub can send, and nobody can send twice: a stranger's
//! unsigned unlock, a captured command replayed or altered, and a site whose controller is not
//! paired with a source. Before commands were signed, the simulator's controller took all of
//! these, and the hub sent commands it could not sign.

use crate::ingest::start_sim;
use crate::on_both;
use crate::support::{Backend, SITE, TestHub};
use axum::body::Bytes;
use axum::http::HeaderMap;
use parking_lot::Mutex;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;

/// What went over the wire: the headers and body of each command the hub sent, and how many
/// attempts the audit trail held when it arrived.
type Captured = Arc<Mutex<Vec<(HeaderMap, Bytes, usize)>>>;

/// A listener between the hub and the controller that keeps a copy of each command and passes
/// it on: what someone on the network between them would see. Its URL is the controller's.
/// As each command arrives it reads the hub's audit trail (`audit`: a URL of attempts and an
/// IT admin's token).
async fn tap(controller: String, audit: (String, String)) -> (String, Captured) {
    let captured: Captured = Arc::default();
    let kept = captured.clone();
    let client = reqwest::Client::new();
    let router = axum::Router::new().route(
        "/api/v1/doors/commands",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (kept, client, controller) = (kept.clone(), client.clone(), controller.clone());
            let (audit_url, admin) = audit.clone();
            async move {
                let attempts: Value = client
                    .get(audit_url)
                    .bearer_auth(admin)
                    .send()
                    .await
                    .expect("the audit trail")
                    .json()
                    .await
                    .expect("JSON");
                let attempts = attempts.as_array().map(Vec::len).unwrap_or(0);
                kept.lock().push((headers.clone(), body.clone(), attempts));
                let mut request = client
                    .post(format!("{controller}/api/v1/doors/commands"))
                    .body(body);
                for (name, value) in &headers {
                    if name.as_str().starts_with("x-watchfloor-") || name == "content-type" {
                        request = request.header(name, value);
                    }
                }
                let answer = request.send().await.expect("the controller answers");
                let status = answer.status().as_u16();
                (
                    axum::http::StatusCode::from_u16(status).expect("a status"),
                    answer.text().await.unwrap_or_default(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, captured)
}

/// Posts `body` with `headers` straight to the controller, as an attacker on the network.
async fn post_to(
    control: &str,
    headers: &HeaderMap,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{control}/api/v1/doors/commands"))
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        if name.as_str().starts_with("x-watchfloor-") {
            request = request.header(name, value);
        }
    }
    let answer = request.send().await.expect("the controller answers");
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

fn lock_of(sim: &sim::Sim, door: &str) -> String {
    let status = sim.door_status();
    let door = status.iter().find(|d| d.id == door).expect("the door");
    format!("{:?}", door.lock)
}

/// Imports the demo site as `import` says (its controller and the source it is paired with).
async fn configure(hub: &TestHub, import: hub::model::SiteImport) {
    hub.running
        .hub
        .import_site(hub::store::Actor::LocalAdmin, import)
        .await
        .expect("the site imports");
}

/// A guard's unlock of door02 through the hub, as request `request_id`.
async fn unlock(hub: &TestHub, guard: &str, request_id: &str) -> (u16, Value) {
    hub.call(
        Method::POST,
        &format!("/api/v1/sites/{SITE}/doors/door02/commands"),
        guard,
        Some(json!({"request_id": request_id, "command": "momentary-unlock"})),
    )
    .await
}

async fn commands_are_signed_once_and_audited_before_and_after(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let secret = hub.source("sim-doors").await;
    let (sim, control) = start_sim(Vec::new(), Some(&secret)).await;
    let admin = hub.login("it-admin").await;
    let attempts = hub.url(&format!(
        "/api/v1/audit?site={SITE}&action=door.command.attempt"
    ));
    let (tapped, captured) = tap(control.clone(), (attempts, admin.clone())).await;
    let guard = hub.login("guard").await;

    // A controller but no paired source: the hub sends nothing it cannot sign.
    let mut import = crate::support::demo_import();
    import.controller_url = Some(tapped.clone());
    configure(&hub, import.clone()).await;
    let (status, body) = unlock(&hub, &guard, "u-0").await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"].as_str().unwrap_or("").contains("paired"),
        "{body}"
    );
    assert!(captured.lock().is_empty(), "nothing was sent");
    // Paired with a source that does not exist, or another site's: refused the same way.
    hub.other_site("branch", "branch-doors").await;
    for (source, request) in [("no-such-source", "u-0b"), ("branch-doors", "u-0c")] {
        import.controller_source = Some(source.into());
        configure(&hub, import.clone()).await;
        let (status, body) = unlock(&hub, &guard, request).await;
        assert_eq!(status, 409, "{source}: {body}");
        assert!(captured.lock().is_empty(), "nothing was sent");
    }

    // A stranger on the network, unsigned: refused, and the door stays locked.
    let before = lock_of(&sim, "door02");
    let (status, body) = post_to(
        &control,
        &HeaderMap::new(),
        r#"{"command":"momentary-unlock","door":"door02"}"#,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unsigned")),
        "{body}"
    );
    assert_eq!(lock_of(&sim, "door02"), before);

    // Paired: the hub's command is signed and the controller obeys.
    import.controller_source = Some("sim-doors".into());
    configure(&hub, import).await;
    let (status, body) = unlock(&hub, &guard, "u-1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(lock_of(&sim, "door02"), "Unlocked");
    let (headers, sent, audited) = captured.lock().last().cloned().expect("one command went");
    assert_eq!(
        audited, 1,
        "the attempt was in the audit trail before the command left"
    );
    for header in [
        events::TIMESTAMP_HEADER,
        events::NONCE_HEADER,
        events::SIGNATURE_HEADER,
    ] {
        assert!(headers.contains_key(header), "{header} was sent");
    }

    // The captured command replayed, as is and with another door: refused both times.
    let (status, body) = post_to(&control, &headers, sent.clone()).await;
    assert_eq!(status, 401, "a replay: {body}");
    assert!(
        body["message"].as_str().unwrap_or("").contains("replay"),
        "{body}"
    );
    // Another door with a fresh nonce, so that only the signature can refuse it.
    let door01 = lock_of(&sim, "door01");
    let altered = String::from_utf8_lossy(&sent).replace("door02", "door01");
    assert_ne!(altered.as_bytes(), &sent[..], "the body names the door");
    let mut fresh = headers.clone();
    fresh.insert(
        events::NONCE_HEADER,
        "00112233445566778899aabbccddeeff".parse().expect("a nonce"),
    );
    let (status, body) = post_to(&control, &fresh, altered).await;
    assert_eq!(status, 401, "an altered body: {body}");
    assert!(
        body["message"].as_str().unwrap_or("").contains("signature"),
        "{body}"
    );
    assert_eq!(lock_of(&sim, "door01"), door01, "door01 never moved");

    // The same request id again is the hub's remembered answer, not a second command.
    let (status, _) = unlock(&hub, &guard, "u-1").await;
    assert_eq!(status, 200);
    assert_eq!(captured.lock().len(), 1, "sent once");

    // A controller that is down: the attempt is on record before it fails, and its outcome
    // after. Audited in that order for the command that went through too.
    drop(sim);
    let mut import = crate::support::demo_import();
    import.controller_url = Some("http://127.0.0.1:9".into());
    import.controller_source = Some("sim-doors".into());
    configure(&hub, import).await;
    let (status, body) = unlock(&hub, &guard, "u-2").await;
    assert_eq!(status, 502, "{body}");
    let mut trail = Vec::new();
    for action in ["door.command.attempt", "door.command"] {
        let (status, audit) = hub
            .call(
                Method::GET,
                &format!("/api/v1/audit?site={SITE}&action={action}"),
                &admin,
                None,
            )
            .await;
        assert_eq!(status, 200, "{audit}");
        for record in audit.as_array().cloned().unwrap_or_default() {
            trail.push((record["seq"].as_i64().unwrap_or(0), action, record));
        }
    }
    trail.sort_by_key(|(seq, _, _)| *seq);
    let actions: Vec<&str> = trail.iter().map(|(_, action, _)| *action).collect();
    assert_eq!(
        actions,
        [
            "door.command.attempt",
            "door.command",
            "door.command.attempt",
            "door.command"
        ],
        "{trail:?}"
    );
    assert_eq!(trail[1].2["detail"]["outcome"], "sent");
    assert!(
        trail[3].2["detail"]["outcome"]
            .as_str()
            .unwrap_or("")
            .contains("unreachable"),
        "{trail:?}"
    );
    hub.running.stop().await;
}
on_both!(commands_are_signed_once_and_audited_before_and_after);
