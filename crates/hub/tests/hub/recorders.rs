//! Recorders and stream tickets: an IT admin registers a site's recorder and says which
//! cameras it serves; a user who may view the site gets a short-lived ticket signed with the
//! hub's ticket key for one stream of one camera; everyone else is refused. Issued and refused
//! tickets are both in the audit trail.

use crate::on_both;
use crate::support::{Backend, SITE, TestHub};
use contract::TicketClaims;
use reqwest::Method;
use serde_json::{Value, json};

const RECORDER_KEY: &str = "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29";

async fn ticket(hub: &TestHub, token: &str, camera: &str, stream: &str) -> (u16, Value) {
    hub.call(
        Method::POST,
        &format!("/api/v1/sites/{SITE}/cameras/{camera}/ticket"),
        token,
        Some(json!({"stream": stream})),
    )
    .await
}

on_both!(tickets_are_signed_for_viewers_and_refused_to_others);
async fn tickets_are_signed_for_viewers_and_refused_to_others(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let admin = hub.login("it-admin").await;
    let guard = hub.login("guard").await;
    let stranger = hub.login("other-guard").await;

    // Registering is configuration: an IT admin's.
    let recorder = json!({"id": "rec-1", "name": "Main building", "rtsp_url": "rtsp://10.0.0.9:8556/",
                          "public_key": RECORDER_KEY});
    let path = format!("/api/v1/sites/{SITE}/recorders/rec-1");
    let (status, _) = hub
        .call(Method::PUT, &path, &guard, Some(recorder.clone()))
        .await;
    assert_eq!(status, 403);
    let (status, saved) = hub.call(Method::PUT, &path, &admin, Some(recorder)).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["rtsp_url"], "rtsp://10.0.0.9:8556");
    let with_password = json!({"id": "rec-1", "name": "x", "rtsp_url": "rtsp://admin:pw@10.0.0.9:8556",
                               "public_key": RECORDER_KEY});
    let (status, refused) = hub
        .call(Method::PUT, &path, &admin, Some(with_password))
        .await;
    assert_eq!(status, 400, "{refused}");

    // A camera without a recorder is opened directly: no ticket.
    let (status, answer) = ticket(&hub, &guard, "cam01", "main").await;
    assert_eq!(status, 409, "{answer}");
    let (status, _) = hub
        .call(
            Method::PUT,
            &format!("/api/v1/sites/{SITE}/cameras/cam01/recorder"),
            &admin,
            Some(json!({"recorder": "rec-1"})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, site) = hub
        .call(Method::GET, &format!("/api/v1/sites/{SITE}"), &guard, None)
        .await;
    assert_eq!(
        site["cameras"][0]["recorder"], "rec-1",
        "{}",
        site["cameras"][0]
    );

    // The guard's ticket: for cam01's sub-stream, signed by the hub's ticket key.
    let (status, answer) = ticket(&hub, &guard, "cam01", "sub").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["url"], "rtsp://10.0.0.9:8556/cam01/sub");
    assert_eq!(answer["user"], "ticket");
    let token = answer["ticket"].as_str().expect("ticket");
    let payload =
        keys::open_token(&hub.running.hub.ticket_key(), token).expect("the hub signed it");
    let claims: TicketClaims = serde_json::from_slice(&payload).expect("claims");
    assert_eq!(claims.camera, "cam01");
    assert_eq!(claims.stream, contract::StreamName::Sub);
    assert_eq!(claims.site, SITE);
    assert_eq!(
        claims.recorder, "rec-1",
        "good on its camera's recorder only"
    );
    assert_eq!(claims.user, "u-guard");
    assert_eq!(
        claims.expires_ms - claims.issued_ms,
        hub::store::TICKET_LIFETIME_MS
    );
    assert!(keys::open_token(&keys::SigningKey::ephemeral().public_hex(), token).is_none());
    assert_eq!(claims.mode, contract::StreamMode::Live, "live unless asked");

    // A ticket to its recording: the replay address, and a claim that opens nothing live.
    let (status, answer) = hub
        .call(
            Method::POST,
            &format!("/api/v1/sites/{SITE}/cameras/cam01/ticket"),
            &guard,
            Some(json!({"stream": "main", "mode": "replay"})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["url"], "rtsp://10.0.0.9:8556/cam01/main/replay");
    let payload = keys::open_token(
        &hub.running.hub.ticket_key(),
        answer["ticket"].as_str().expect("ticket"),
    )
    .expect("signed");
    let claims: TicketClaims = serde_json::from_slice(&payload).expect("claims");
    assert_eq!(claims.mode, contract::StreamMode::Replay);

    // A guard of another site is refused as if the site did not exist, and that is audited.
    let (status, _) = ticket(&hub, &stranger, "cam01", "main").await;
    assert_eq!(status, 404);
    let (status, _) = ticket(&hub, &guard, "no-such-camera", "main").await;
    assert_eq!(status, 404);
    let issued = hub.audit(&admin, "camera.ticket").await;
    assert_eq!(issued.len(), 2, "{issued:?}");
    assert!(issued.iter().all(|i| i["target"] == "cam01"), "{issued:?}");
    assert!(
        issued
            .iter()
            .any(|i| i["detail"]["stream"] == "sub" && i["detail"]["mode"] == "live")
    );
    assert!(
        issued
            .iter()
            .any(|i| i["detail"]["stream"] == "main" && i["detail"]["mode"] == "replay")
    );
    let refused = hub.audit(&admin, "camera.ticket.refused").await;
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert!(
        refused
            .iter()
            .any(|r| r["user"] == "u-other-guard" && r["target"] == "cam01"),
        "{refused:?}"
    );

    // Re-importing the site keeps which recorder serves which camera.
    let import = crate::support::demo_import();
    let (status, _) = hub
        .call(
            Method::PUT,
            &format!("/api/v1/sites/{SITE}"),
            &admin,
            Some(serde_json::to_value(import).expect("import")),
        )
        .await;
    assert_eq!(status, 200);
    let (_, site) = hub
        .call(Method::GET, &format!("/api/v1/sites/{SITE}"), &guard, None)
        .await;
    assert_eq!(site["cameras"][0]["recorder"], "rec-1");
    let (_, recorders) = hub
        .call(
            Method::GET,
            &format!("/api/v1/sites/{SITE}/recorders"),
            &guard,
            None,
        )
        .await;
    assert_eq!(recorders[0]["public_key"], RECORDER_KEY);
}
