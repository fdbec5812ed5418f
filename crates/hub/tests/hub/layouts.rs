//! Saved layouts: private to their owner until shared with a site, then seen by that site's
//! operators only, live on the feed, and never replaced or deleted by anyone but the owner.

use crate::on_both;
use crate::support::{Backend, SITE, TestHub};
use reqwest::Method;
use serde_json::{Value, json};

fn body(name: &str, shared: Option<&str>) -> Value {
    json!({
        "name": name,
        "shared_site": shared,
        "wall": {"name": "2x2", "tiles": [
            {"x": 0.0, "y": 0.0, "w": 0.5, "h": 0.5}, {"x": 0.5, "y": 0.0, "w": 0.5, "h": 0.5},
            {"x": 0.0, "y": 0.5, "w": 0.5, "h": 0.5}, {"x": 0.5, "y": 0.5, "w": 0.5, "h": 0.5}]},
        "cameras": ["cam01", null, "cam03"],
        "tours": [null, {"cameras": ["cam02", "cam04"], "dwell_s": 5}],
    })
}

async fn names(hub: &TestHub, token: &str) -> Vec<String> {
    let (status, list) = hub.call(Method::GET, "/api/v1/layouts", token, None).await;
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .expect("a list")
        .iter()
        .map(|l| l["name"].as_str().expect("name").to_owned())
        .collect()
}

on_both!(private_then_shared);
async fn private_then_shared(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let guard = hub.login("guard").await;
    let manager = hub.login("manager").await;
    let elsewhere = hub.login("other-guard").await;

    let (status, saved) = hub
        .call(
            Method::PUT,
            "/api/v1/layouts/l-1",
            &guard,
            Some(body("Lobby", None)),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["owner"], "guard");
    assert_eq!(saved["tours"][1]["dwell_s"], 5);
    assert_eq!(names(&hub, &guard).await, ["Lobby"]);
    assert!(
        names(&hub, &manager).await.is_empty(),
        "private to its owner"
    );

    // Shared with the site: its operators see it, a guard of another site does not.
    let (status, _) = hub
        .call(
            Method::PUT,
            "/api/v1/layouts/l-1",
            &guard,
            Some(body("Lobby", Some(SITE))),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(names(&hub, &manager).await, ["Lobby"]);
    assert!(names(&hub, &elsewhere).await.is_empty());

    // Only the owner replaces or deletes it.
    let (status, _) = hub
        .call(
            Method::PUT,
            "/api/v1/layouts/l-1",
            &manager,
            Some(body("Mine now", None)),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = hub
        .call(Method::DELETE, "/api/v1/layouts/l-1", &manager, None)
        .await;
    assert_eq!(status, 403);
    let (status, _) = hub
        .call(Method::DELETE, "/api/v1/layouts/l-1", &elsewhere, None)
        .await;
    assert_eq!(status, 404, "invisible to another site's guard");

    // Sharing with a site the caller has no grant on: that site does not exist for them.
    let (status, _) = hub
        .call(
            Method::PUT,
            "/api/v1/layouts/l-2",
            &elsewhere,
            Some(body("X", Some(SITE))),
        )
        .await;
    assert_eq!(status, 404);

    // The feed carried the share and the withdrawal to the site.
    let (status, _) = hub
        .call(Method::DELETE, "/api/v1/layouts/l-1", &guard, None)
        .await;
    assert_eq!(status, 204);
    assert!(names(&hub, &guard).await.is_empty());
    let kinds = hub.change_kinds("layout").await;
    assert_eq!(kinds, ["layout", "layout.removed"]);
}

on_both!(bad_layouts_are_refused);
async fn bad_layouts_are_refused(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let guard = hub.login("guard").await;
    let mut outside = body("Out", None);
    outside["wall"]["tiles"][0]["w"] = json!(1.5);
    let mut no_tiles = body("None", None);
    no_tiles["wall"]["tiles"] = json!([]);
    let mut too_many = body("Many", None);
    too_many["cameras"] = json!(vec![Value::Null; 5]);
    let mut bad_tour = body("Tour", None);
    bad_tour["tours"][1]["dwell_s"] = json!(0);
    for bad in [outside, no_tiles, too_many, bad_tour, body("  ", None)] {
        let (status, answer) = hub
            .call(Method::PUT, "/api/v1/layouts/bad", &guard, Some(bad))
            .await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["code"], "bad_request");
    }
    assert!(names(&hub, &guard).await.is_empty());
}
