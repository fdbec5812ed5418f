//! Bookmarks: a guard marks an instant and a range of a camera's video with a note (the same
//! request again makes nothing twice), everyone on the site lists, filters and searches them,
//! they link to an incident, and they go out on the feed; a user of another site can neither
//! see nor make them, and only their maker or a supervisor deletes one.

use crate::on_both;
use crate::support::{Backend, SITE, TestHub};
use reqwest::Method;
use serde_json::{Value, json};

on_both!(bookmarks_are_made_listed_searched_and_deleted_by_those_allowed);
async fn bookmarks_are_made_listed_searched_and_deleted_by_those_allowed(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let guard = hub.login("guard").await;
    let manager = hub.login("manager").await;
    let stranger = hub.login("other-guard").await;
    let path = format!("/api/v1/sites/{SITE}/bookmarks");
    let make = |id: &str, camera: &str, at: &str, note: &str| json!({"id": id, "camera": camera, "at": at, "note": note});

    // An instant, and a range linked to an incident.
    let first = make(
        "b-1",
        "cam01",
        "2026-11-28T04:00:00.500Z",
        "Man in red jacket at the dock",
    );
    let (status, made) = hub
        .call(Method::POST, &path, &guard, Some(first.clone()))
        .await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["created_by"], "guard");
    assert_eq!(made["at"], "2026-11-28T04:00:00.500Z");
    let (status, again) = hub.call(Method::POST, &path, &guard, Some(first)).await;
    assert_eq!(
        (status, &again),
        (200, &made),
        "the same request makes nothing twice"
    );
    let (status, incident) = hub
        .call(
            Method::POST,
            "/api/v1/incidents",
            &guard,
            Some(json!({"id": "inc-b", "site": SITE, "title": "Dock"})),
        )
        .await;
    assert_eq!(status, 200, "{incident}");
    let mut range = make(
        "b-2",
        "cam02",
        "2026-11-28T04:05:00Z",
        "Van leaves the DOCK",
    );
    range["to"] = json!("2026-11-28T04:06:00Z");
    range["incident"] = json!("inc-b");
    let (status, made) = hub.call(Method::POST, &path, &guard, Some(range)).await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["incident"], "inc-b");

    // Listed newest first, filtered by camera, incident, time and words.
    let list = |query: &str, token: &str| {
        let (hub, path, query, token) = (&hub, &path, query.to_owned(), token.to_owned());
        async move {
            let (status, list) = hub
                .call(Method::GET, &format!("{path}{query}"), &token, None)
                .await;
            assert_eq!(status, 200, "{list}");
            list.as_array()
                .expect("a list")
                .iter()
                .map(|b| b["id"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("", &manager).await, ["b-2", "b-1"]);
    assert_eq!(list("?camera=cam01", &manager).await, ["b-1"]);
    assert_eq!(list("?incident=inc-b", &manager).await, ["b-2"]);
    assert_eq!(list("?q=dock", &manager).await, ["b-2", "b-1"]);
    assert_eq!(list("?q=red%20DOCK", &manager).await, ["b-1"]);
    assert_eq!(
        list(
            "?from=2026-11-28T04:01:00Z&to=2026-11-28T05:00:00Z",
            &manager
        )
        .await,
        ["b-2"]
    );
    assert_eq!(list("?limit=1", &manager).await, ["b-2"]);

    // Refused: another site's user, the id taken by another bookmark, a camera or incident not
    // there, a range that ends first, the future, a note too long.
    let (status, _) = hub.call(Method::GET, &path, &stranger, None).await;
    assert_eq!(status, 404);
    let (status, _) = hub
        .call(
            Method::POST,
            &path,
            &stranger,
            Some(make("b-9", "cam01", "2026-11-28T04:00:00Z", "")),
        )
        .await;
    assert_eq!(status, 404);
    let refused: [(Value, u16); 6] = [
        (make("b-1", "cam01", "2026-11-28T04:00:00Z", "other"), 409),
        (make("b-3", "cam99", "2026-11-28T04:00:00Z", ""), 404),
        (
            json!({"id": "b-3", "camera": "cam01", "at": "2026-11-28T04:00:00Z", "note": "",
                   "incident": "nowhere"}),
            404,
        ),
        (
            json!({"id": "b-3", "camera": "cam01", "at": "2026-11-28T04:00:00Z",
                   "to": "2026-11-28T03:00:00Z", "note": ""}),
            400,
        ),
        (make("b-3", "cam01", "2999-01-01T00:00:00Z", ""), 400),
        (
            make("b-3", "cam01", "2026-11-28T04:00:00Z", &"x".repeat(3000)),
            400,
        ),
    ];
    for (body, expected) in refused {
        let (status, answer) = hub.call(Method::POST, &path, &guard, Some(body)).await;
        assert_eq!(status, expected, "{answer}");
    }

    // Only its maker, or a manager, deletes one.
    let other_guard_path = format!("{path}/b-2");
    let (status, _) = hub
        .call(Method::DELETE, &other_guard_path, &stranger, None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = hub
        .call(Method::DELETE, &other_guard_path, &manager, None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = hub
        .call(Method::DELETE, &format!("{path}/b-1"), &guard, None)
        .await;
    assert_eq!(status, 204);
    assert!(list("", &guard).await.is_empty());

    // Each went out on the feed to the site, and is in the audit trail.
    let kinds = hub.change_kinds("bookmark").await;
    assert_eq!(
        kinds,
        [
            "bookmark",
            "bookmark",
            "bookmark.removed",
            "bookmark.removed"
        ]
    );
    let admin = hub.login("it-admin").await;
    assert_eq!(hub.audit(&admin, "bookmark.create").await.len(), 2);
    assert_eq!(hub.audit(&admin, "bookmark.delete").await.len(), 2);
}

/// `token`'s bookmark `id` of `camera` with `note`, made (or the test fails).
async fn bookmark_by(hub: &TestHub, token: &str, id: &str, camera: &str, note: &str) -> Value {
    let (status, made) = hub
        .call(
            Method::POST,
            &format!("/api/v1/sites/{SITE}/bookmarks"),
            token,
            Some(json!({"id": id, "camera": camera, "at": "2026-11-28T04:00:00Z", "note": note})),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    made
}

on_both!(a_guard_may_delete_only_their_own_bookmarks);
async fn a_guard_may_delete_only_their_own_bookmarks(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let manager = hub.login("manager").await;
    let guard = hub.login("guard").await;
    let path = format!("/api/v1/sites/{SITE}/bookmarks");
    bookmark_by(&hub, &manager, "b-m", "cam01", "the manager's").await;
    let (status, answer) = hub
        .call(Method::DELETE, &format!("{path}/b-m"), &guard, None)
        .await;
    assert_eq!(status, 403, "{answer}");
}

/// `token` links bookmark `b-l` to `incident` (a JSON id, or null to unlink).
async fn link_as(hub: &TestHub, token: &str, incident: Value) -> (u16, Value) {
    hub.call(
        Method::PATCH,
        &format!("/api/v1/sites/{SITE}/bookmarks/b-l"),
        token,
        Some(json!({ "incident": incident })),
    )
    .await
}

on_both!(a_bookmark_is_linked_to_an_incident_and_back_by_those_allowed);
async fn a_bookmark_is_linked_to_an_incident_and_back_by_those_allowed(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let guard = hub.login("guard").await;
    let supervisor = hub.login("supervisor").await;
    let stranger = hub.login("other-guard").await;
    let path = format!("/api/v1/sites/{SITE}/bookmarks");
    bookmark_by(&hub, &supervisor, "b-l", "cam03", "someone at the fence").await;
    let (status, incident) = hub
        .call(
            Method::POST,
            "/api/v1/incidents",
            &guard,
            Some(json!({"id": "inc-fence", "site": SITE, "title": "Fence"})),
        )
        .await;
    assert_eq!(status, 200, "{incident}");
    let link = format!("{path}/b-l");

    // Another site's guard cannot; an incident that is not there is named.
    let (status, _) = link_as(&hub, &stranger, json!("inc-fence")).await;
    assert!(status == 403 || status == 404, "{status}");
    let (status, said) = link_as(&hub, &guard, json!("inc-nowhere")).await;
    assert_eq!(status, 404, "{said}");
    assert!(
        said["message"]
            .as_str()
            .is_some_and(|m| m.contains("inc-nowhere"))
    );

    // A guard links another's bookmark to the incident they work on: the incident's list has
    // it, and every workstation hears it.
    let (status, linked) = link_as(&hub, &guard, json!("inc-fence")).await;
    assert_eq!(status, 200, "{linked}");
    assert_eq!(linked["incident"], "inc-fence");
    assert_eq!(linked["created_by"], "supervisor", "its maker stays");
    // The same link again changes nothing (no second change, no second audit line); a body
    // without the field is refused, not read as "unlink"; who may only view cannot link.
    let (status, again) = link_as(&hub, &guard, json!("inc-fence")).await;
    assert_eq!((status, &again), (200, &linked));
    let (status, said) = hub
        .call(Method::PATCH, &link, &guard, Some(json!({})))
        .await;
    assert_eq!(status, 400, "{said}");
    let admin = hub.login("it-admin").await;
    let (status, said) = link_as(&hub, &admin, json!(null)).await;
    assert_eq!(status, 403, "{said}");
    // Its maker's creating request, sent again after the link (the outbox retrying): the same
    // bookmark, not a conflict.
    let (status, retried) = hub
        .call(
            Method::POST,
            &path,
            &supervisor,
            Some(
                json!({"id": "b-l", "camera": "cam03", "at": "2026-11-28T04:00:00Z",
                        "note": "someone at the fence"}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["incident"], "inc-fence");
    let (_, listed) = hub
        .call(
            Method::GET,
            &format!("{path}?incident=inc-fence"),
            &guard,
            None,
        )
        .await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    // Unlinked.
    let (status, unlinked) = link_as(&hub, &guard, json!(null)).await;
    assert_eq!(status, 200, "{unlinked}");
    assert_eq!(unlinked["incident"], Value::Null);
    let (_, listed) = hub
        .call(
            Method::GET,
            &format!("{path}?incident=inc-fence"),
            &guard,
            None,
        )
        .await;
    assert_eq!(listed, json!([]));
    // A deleted incident takes no bookmark.
    let manager = hub.login("manager").await;
    let (status, said) = hub
        .call(
            Method::DELETE,
            "/api/v1/incidents/inc-fence",
            &manager,
            None,
        )
        .await;
    assert!(status == 200 || status == 204, "{status} {said}");
    let (status, said) = link_as(&hub, &guard, json!("inc-fence")).await;
    assert_eq!(status, 404, "{said}");
    assert_eq!(
        hub.change_kinds("bookmark").await,
        ["bookmark", "bookmark", "bookmark"]
    );
    assert_eq!(hub.audit(&admin, "bookmark.link").await.len(), 2);
}
