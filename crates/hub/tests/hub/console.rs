//! The browser console: the hub serves the web UI's files, signs browsers in with an HttpOnly
//! cookie (never a token in the body), refuses cookie writes without the console's header, and
//! lets the live feed subscribe by cookie.

use crate::feed::next_json;
use crate::support::{PASSWORD, SITE, TestHub, scratch};
use futures_util::SinkExt;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_by_cookie_and_follows_the_feed() {
    let dir = scratch("console");
    std::fs::create_dir_all(dir.join("assets")).expect("dir");
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>Watchfloor</title>",
    )
    .expect("page");
    let hub = TestHub::start_with_console(dir).await;
    let http = &hub.http;

    let page = http.get(hub.url("/incidents")).send().await.expect("page");
    assert_eq!(page.status(), 200, "a console view is the page");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(page.text().await.expect("text").contains("Watchfloor"));
    let missing = http
        .get(hub.url("/api/v1/nothing"))
        .send()
        .await
        .expect("api");
    assert_eq!(
        missing.status(),
        404,
        "API paths never fall back to the page"
    );
    assert_eq!(
        missing.json::<Value>().await.expect("json")["code"],
        "not_found"
    );

    let login = http
        .post(hub.url("/api/v1/auth/browser-login"))
        .json(&json!({"username": "manager", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    let set = login.headers()[SET_COOKIE]
        .to_str()
        .expect("cookie")
        .to_owned();
    // `__Host-`: kept only from HTTPS, for this host alone, with `Path=/` and no domain.
    assert!(set.starts_with("__Host-watchfloor_session="), "{set}");
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/;"] {
        assert!(set.contains(part), "{part} in {set}");
    }
    assert!(!set.contains("Domain"), "{set}");
    let hsts = login.headers()[reqwest::header::STRICT_TRANSPORT_SECURITY]
        .to_str()
        .expect("HSTS");
    assert!(hsts.starts_with("max-age="), "{hsts}");
    let body: Value = login.json().await.expect("json");
    assert!(body.get("token").is_none(), "no token in the body: {body}");
    assert_eq!(body["user"]["username"], "manager");
    let cookie = set.split(';').next().expect("pair").to_owned();

    let me = http
        .get(hub.url("/api/v1/me"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), 200);

    let incident = json!({"id": "inc-browser-1", "site": SITE, "title": "From a browser"});
    let forged = http
        .post(hub.url("/api/v1/incidents"))
        .header(COOKIE, &cookie)
        .json(&incident)
        .send()
        .await
        .expect("write");
    assert_eq!(
        forged.status(),
        403,
        "a cookie write without the console header is refused"
    );

    // A page of another origin cannot use the cookie on the feed (WebSockets skip CORS).
    let (mut foreign, refused) =
        subscribe_by_cookie(&hub, &cookie, Some("https://evil.example")).await;
    assert_eq!(refused["code"], "unauthenticated", "{refused}");
    drop(foreign.close(None).await);

    // The feed, subscribed by cookie alone (same origin).
    let (mut socket, hello) = subscribe_by_cookie(&hub, &cookie, None).await;
    assert_eq!(hello["type"], "subscribed", "{hello}");

    let written = http
        .post(hub.url("/api/v1/incidents"))
        .header(COOKIE, &cookie)
        .header("x-watchfloor", "1")
        .json(&incident)
        .send()
        .await
        .expect("write");
    assert_eq!(written.status(), 200);
    let change = next_json(&mut socket).await.expect("change");
    assert_eq!(change["kind"], "incident", "{change}");
    assert_eq!(change["data"]["id"], "inc-browser-1");

    let out = http
        .post(hub.url("/api/v1/auth/logout"))
        .header(COOKIE, &cookie)
        .header("x-watchfloor", "1")
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), 204);
    assert!(
        out.headers()[SET_COOKIE]
            .to_str()
            .expect("cookie")
            .contains("Max-Age=0")
    );
    let after = http
        .get(hub.url("/api/v1/me"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("me");
    assert_eq!(after.status(), 401, "the session ended with the log-out");
}

/// Opens the live feed with the session cookie (and an `Origin`, as a browser page sends) and
/// subscribes without a token; returns the socket and the hub's first answer.
async fn subscribe_by_cookie(
    hub: &TestHub,
    cookie: &str,
    origin: Option<&str>,
) -> (crate::feed::Socket, Value) {
    let mut request = hub.ws_url().into_client_request().expect("request");
    request
        .headers_mut()
        .insert(COOKIE, cookie.parse().expect("header"));
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().expect("origin"));
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket");
    socket
        .send(Message::Text(
            json!({"type": "subscribe"}).to_string().into(),
        ))
        .await
        .expect("subscribe");
    let answer = next_json(&mut socket).await.expect("answer");
    (socket, answer)
}
