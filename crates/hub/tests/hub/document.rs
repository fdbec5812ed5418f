//! The OpenAPI document tells the truth: every operation it lists is sent the requests clients
//! get wrong (no session, a role without the right, unknown ids, a malformed or non-JSON body,
//! a bad query), and every answer must have a status the document declares for it, with the
//! `{code, message}` body whose code has that status. Clients generated from the document can
//! rely on it.

use crate::support::{Backend, TestHub, operations};
use serde_json::Value;

struct Probe {
    what: &'static str,
    token: Option<String>,
    query: &'static str,
    body: Option<(&'static str, Vec<u8>)>,
}

/// The operations of the document the hub serves.
async fn documented(hub: &TestHub) -> Vec<crate::support::Operation> {
    let document: Value = hub
        .http
        .get(hub.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("document")
        .json()
        .await
        .expect("json");
    operations(&document)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_answer_is_declared_in_the_document() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let admin = hub.login("it-admin").await;
    let guard = hub.login("guard").await;
    let operations = documented(&hub).await;
    assert!(operations.len() >= 30, "{} operations", operations.len());
    let json = |text: &str| Some(("application/json", text.as_bytes().to_vec()));
    let probes = [
        Probe {
            what: "no session",
            token: None,
            query: "",
            body: json("{}"),
        },
        Probe {
            what: "a guard",
            token: Some(guard.clone()),
            query: "",
            body: json("{}"),
        },
        Probe {
            what: "an empty object",
            token: Some(admin.clone()),
            query: "",
            body: json("{}"),
        },
        Probe {
            what: "broken JSON",
            token: Some(admin.clone()),
            query: "",
            body: json("{\"id\":"),
        },
        Probe {
            what: "not JSON",
            token: Some(admin.clone()),
            query: "",
            body: Some(("text/plain", b"hello".to_vec())),
        },
        Probe {
            what: "a bad query",
            token: Some(admin.clone()),
            query: "limit=many&after=x",
            body: None,
        },
    ];
    let mut untrue = Vec::new();
    for operation in &operations {
        let path = operation
            .path
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    "no-such-thing"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for probe in &probes {
            let mut url = hub.url(&path);
            if !probe.query.is_empty() {
                url = format!("{url}?{}", probe.query);
            }
            let mut request = hub.http.request(operation.method.clone(), &url);
            if let Some(token) = &probe.token {
                request = request.bearer_auth(token);
            }
            if let Some((media_type, bytes)) = &probe.body
                && operation.method != reqwest::Method::GET
            {
                request = request
                    .header("content-type", *media_type)
                    .body(bytes.clone());
            }
            let response = request.send().await.expect("the hub answers");
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            assert!(
                !text.contains("no such route"),
                "{} {} is in the document but not in the router",
                operation.method,
                operation.path
            );
            if let Err(why) = operation.check_answer(status, &text) {
                untrue.push(format!(
                    "{} {} with {}: {why}",
                    operation.method, operation.path, probe.what
                ));
            }
        }
    }
    assert!(
        untrue.is_empty(),
        "answers the document does not declare:\n{}",
        untrue.join("\n")
    );
    hub.running.stop().await;
}

/// A body over the hub's limit is refused with its own code, as declared.
#[tokio::test(flavor = "multi_thread")]
async fn a_body_too_large_is_refused_as_declared() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let admin = hub.login("it-admin").await;
    let operation = documented(&hub)
        .await
        .into_iter()
        .find(|o| o.path == "/api/v1/incidents" && o.method == reqwest::Method::POST)
        .expect("creating an incident is documented");
    let body = format!("{{\"title\":\"{}\"}}", "x".repeat(17 << 20));
    let response = hub
        .http
        .post(hub.url("/api/v1/incidents"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("answer");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(status, 413, "{text}");
    operation.check_answer(status, &text).expect("declared");
    hub.running.stop().await;
}

/// Conflicts, which the shape probes cannot reach (they stop at unknown ids), are declared
/// where they happen.
#[tokio::test(flavor = "multi_thread")]
async fn conflicts_are_declared_where_they_happen() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let admin = hub.login("it-admin").await;
    let guard = hub.login("guard").await;
    let operations = documented(&hub).await;
    let find = |method: reqwest::Method, path: &str| {
        operations
            .iter()
            .find(|o| o.method == method && o.path == path)
            .unwrap_or_else(|| panic!("{method} {path} is documented"))
    };
    let door = crate::support::first_door();
    let cases = [
        (
            // The test hub's site has no door controller.
            find(
                reqwest::Method::POST,
                "/api/v1/sites/{site}/doors/{door}/commands",
            ),
            format!(
                "/api/v1/sites/{}/doors/{door}/commands",
                crate::support::SITE
            ),
            guard.clone(),
            serde_json::json!({"request_id": "c-1", "command": "momentary-unlock"}),
        ),
        (
            find(reqwest::Method::POST, "/api/v1/users"),
            "/api/v1/users".to_owned(),
            admin.clone(),
            serde_json::json!({"id": "u-new", "username": "guard", "display_name": "Again",
                               "password": "a long enough password", "grants": []}),
        ),
    ];
    for (operation, path, token, body) in cases {
        let response = hub
            .http
            .post(hub.url(&path))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .expect("answer");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, 409, "{path}: {text}");
        operation.check_answer(status, &text).expect("declared");
    }
    hub.running.stop().await;
}
