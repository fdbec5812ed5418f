//! Client-made ids: a write sent twice (a retry after a lost answer, an outbox replaying)
//! creates one record and one audit line.

use crate::on_both;
use crate::support::{Backend, SITE, TestHub, door_event, first_door};
use reqwest::Method;
use serde_json::json;

async fn replayed_writes_create_one_record(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let secret = hub.source("replay-src").await;
    let guard = hub.login("guard").await;
    let admin = hub.login("it-admin").await;

    let event = door_event("ev-1", &first_door(), "DoorAlarm", "DoorForcedOpen");
    let (_, first) = hub.post_events("replay-src", &secret, &event).await;
    let (_, second) = hub.post_events("replay-src", &secret, &event).await;
    assert_eq!(first["results"][0]["status"], "accepted");
    assert_eq!(second["results"][0]["status"], "duplicate");
    let (_, events) = hub
        .call(
            Method::GET,
            &format!("/api/v1/events?site={SITE}"),
            &guard,
            None,
        )
        .await;
    assert_eq!(events.as_array().map(Vec::len), Some(1));
    let (_, alarms) = hub
        .call(
            Method::GET,
            &format!("/api/v1/alarms?site={SITE}"),
            &guard,
            None,
        )
        .await;
    assert_eq!(
        alarms.as_array().map(Vec::len),
        Some(1),
        "one alarm, not two"
    );
    let alarm = alarms[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        alarms[0]["cameras"],
        json!(["cam01", "cam02"]),
        "the door's cameras are linked"
    );

    let ack = json!({"request_id": "ack-1", "comment": "patrol sent"});
    let (s1, a1) = hub
        .call(
            Method::POST,
            &format!("/api/v1/alarms/{alarm}/acknowledge"),
            &guard,
            Some(ack.clone()),
        )
        .await;
    let (s2, a2) = hub
        .call(
            Method::POST,
            &format!("/api/v1/alarms/{alarm}/acknowledge"),
            &guard,
            Some(ack),
        )
        .await;
    assert_eq!((s1, s2), (200, 200), "{a2}");
    assert_eq!(a1, a2, "the replay answers what the first call answered");
    let (s3, _) = hub
        .call(
            Method::POST,
            &format!("/api/v1/alarms/{alarm}/acknowledge"),
            &guard,
            Some(json!({"request_id": "ack-2"})),
        )
        .await;
    assert_eq!(s3, 409, "a second, different acknowledgement conflicts");

    // Request ids belong to their user and action: another operator's `ack-1` on another
    // alarm is a new write, not an echo of the first one's answer.
    let (_, second) = hub
        .post_events(
            "replay-src",
            &secret,
            &door_event("ev-2", "door02", "DoorAlarm", "DoorForcedOpen"),
        )
        .await;
    assert_eq!(second["results"][0]["status"], "accepted");
    let (_, alarms) = hub
        .call(
            Method::GET,
            &format!("/api/v1/alarms?site={SITE}&state=new"),
            &guard,
            None,
        )
        .await;
    let other_alarm = alarms[0]["id"]
        .as_str()
        .expect("the second alarm")
        .to_owned();
    let supervisor = hub.login("supervisor").await;
    let (s4, acked) = hub
        .call(
            Method::POST,
            &format!("/api/v1/alarms/{other_alarm}/acknowledge"),
            &supervisor,
            Some(json!({"request_id": "ack-1", "comment": "mine"})),
        )
        .await;
    assert_eq!(
        (s4, acked["id"].as_str()),
        (200, Some(other_alarm.as_str()))
    );
    assert_eq!(acked["acknowledged_by"], "supervisor");

    let incident = json!({"id": "inc-replay", "site": SITE, "title": "Forced door", "links": [{"kind": "alarm", "id": alarm}]});
    let (_, i1) = hub
        .call(
            Method::POST,
            "/api/v1/incidents",
            &guard,
            Some(incident.clone()),
        )
        .await;
    let (_, i2) = hub
        .call(Method::POST, "/api/v1/incidents", &guard, Some(incident))
        .await;
    assert_eq!(i1["id"], i2["id"]);
    let kinds: Vec<&str> = i1["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| l["kind"].as_str().unwrap_or(""))
        .collect();
    assert!(
        kinds.contains(&"alarm") && kinds.contains(&"event") && kinds.contains(&"camera"),
        "{kinds:?}"
    );

    let note = json!({"id": "note-replay", "text": "Patrol found the door wedged.",
        "attachments": [{"name": "snap.txt", "media_type": "text/plain", "data": "aGVsbG8="}]});
    let (n1, stored) = hub
        .call(
            Method::POST,
            "/api/v1/incidents/inc-replay/notes",
            &guard,
            Some(note.clone()),
        )
        .await;
    let (n2, _) = hub
        .call(
            Method::POST,
            "/api/v1/incidents/inc-replay/notes",
            &guard,
            Some(note),
        )
        .await;
    assert_eq!((n1, n2), (200, 200));
    assert_eq!(
        stored["attachments"][0]["sha256"],
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        "attachments are stored under their SHA-256"
    );
    let (_, detail) = hub
        .call(Method::GET, "/api/v1/incidents/inc-replay", &guard, None)
        .await;
    assert_eq!(detail["notes"].as_array().map(Vec::len), Some(1));
    let (status, bytes) = {
        let r = hub
            .http
            .get(hub.url(&format!(
                "/api/v1/attachments/{}",
                stored["attachments"][0]["sha256"].as_str().unwrap_or("")
            )))
            .bearer_auth(&guard)
            .send()
            .await
            .expect("attachment");
        (r.status().as_u16(), r.bytes().await.expect("bytes"))
    };
    assert_eq!((status, &bytes[..]), (200, &b"hello"[..]));

    let (_, audit) = hub
        .call(
            Method::GET,
            &format!("/api/v1/audit?site={SITE}"),
            &admin,
            None,
        )
        .await;
    let count = |action: &str| {
        audit
            .as_array()
            .expect("audit")
            .iter()
            .filter(|r| r["action"] == action)
            .count()
    };
    assert_eq!(
        count("alarm.acknowledge"),
        2,
        "one per alarm, none for the replay"
    );
    assert_eq!(count("incident.create"), 1);
    assert_eq!(count("incident.note"), 1);
    // The history shows who did what to the incident.
    let history: Vec<&str> = detail["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["action"].as_str())
        .collect();
    assert_eq!(history, ["incident.create", "incident.note"]);
    hub.running.stop().await;
}
on_both!(replayed_writes_create_one_record);
