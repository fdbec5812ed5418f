//! Events that try to forge, hide or freeze what the guards see: ids taken by another source,
//! an id reused for other content, late and future-dated door events, and a door that keeps
//! raising the same alarm. Each of these was possible before the hub refused it.

use crate::on_both;
use crate::support::{Backend, SITE, TestHub, door_event, first_door};
use reqwest::Method;
use serde_json::{Value, json};

fn at(event: Value, time: chrono::DateTime<chrono::Utc>) -> Value {
    let mut event = event;
    event["time"] = json!(time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    event
}

fn status(answer: &Value) -> &str {
    answer["results"][0]["status"].as_str().unwrap_or("")
}

async fn alarms(hub: &TestHub, token: &str) -> Vec<Value> {
    let (code, alarms) = hub
        .call(
            Method::GET,
            &format!("/api/v1/alarms?site={SITE}"),
            token,
            None,
        )
        .await;
    assert_eq!(code, 200, "{alarms}");
    alarms.as_array().cloned().unwrap_or_default()
}

async fn door(hub: &TestHub, token: &str) -> Value {
    let (_, site) = hub
        .call(Method::GET, &format!("/api/v1/sites/{SITE}"), token, None)
        .await;
    site["doors"]
        .as_array()
        .and_then(|doors| doors.iter().find(|d| d["id"] == first_door().as_str()))
        .cloned()
        .expect("the door")
}

/// A second source on the site sends the controller's next event id first: the controller's
/// real forced door still raises its alarm (ids are the source's own, not the site's).
async fn another_source_cannot_take_a_controllers_event_ids(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let controller = hub.source("door-ctl").await;
    let intruder = hub.source("lobby-kiosk").await;
    let guard = hub.login("guard").await;
    let decoy = door_event("ctl-7", &first_door(), "AccessGranted", "Granted");
    let (_, answer) = hub.post_events("lobby-kiosk", &intruder, &decoy).await;
    assert_eq!(status(&answer), "accepted", "{answer}");
    let forced = door_event("ctl-7", &first_door(), "DoorAlarm", "DoorForcedOpen");
    let (_, answer) = hub.post_events("door-ctl", &controller, &forced).await;
    assert_eq!(
        status(&answer),
        "accepted",
        "the controller's event is its own: {answer}"
    );
    let raised = alarms(&hub, &guard).await;
    assert_eq!(
        raised.len(),
        1,
        "the forced door raised its alarm: {raised:?}"
    );
    let (_, events) = hub
        .call(
            Method::GET,
            &format!("/api/v1/events?site={SITE}"),
            &guard,
            None,
        )
        .await;
    let mut sources: Vec<&str> = events
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["source"].as_str().unwrap_or(""))
        .collect();
    sources.sort_unstable();
    assert_eq!(
        sources,
        ["webhook:door-ctl", "webhook:lobby-kiosk"],
        "each event says who sent it"
    );
    hub.running.stop().await;
}
on_both!(another_source_cannot_take_a_controllers_event_ids);

/// A source that sends an id again with other content is refused, and the refusal is in the
/// audit trail for IT; the same event again (a retry) is still a quiet duplicate.
async fn an_id_reused_for_other_content_is_refused_and_reported(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let secret = hub.source("door-ctl").await;
    let guard = hub.login("guard").await;
    let admin = hub.login("it-admin").await;
    let closed = door_event("ev-1", &first_door(), "DoorPhysicalState", "Closed");
    let (_, answer) = hub.post_events("door-ctl", &secret, &closed).await;
    assert_eq!(status(&answer), "accepted");
    let (_, answer) = hub.post_events("door-ctl", &secret, &closed).await;
    assert_eq!(status(&answer), "duplicate", "a retry: {answer}");
    let forced = door_event("ev-1", &first_door(), "DoorAlarm", "DoorForcedOpen");
    let (_, answer) = hub.post_events("door-ctl", &secret, &forced).await;
    assert_eq!(status(&answer), "rejected", "{answer}");
    let reason = answer["results"][0]["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("ev-1") && reason.contains("different"),
        "{reason}"
    );
    let reported = hub.audit(&admin, "ingest.conflict").await;
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert_eq!(reported[0]["target"], "ev-1");
    assert_eq!(reported[0]["detail"]["source"], "webhook:door-ctl");
    assert!(alarms(&hub, &guard).await.is_empty(), "nothing raised");
    hub.running.stop().await;
}
on_both!(an_id_reused_for_other_content_is_refused_and_reported);

/// Each attribute of a door keeps its own time: a late report of the door's position is not
/// dropped because the lock reported later, and an event dated in the future is refused
/// instead of freezing the door until then.
async fn late_and_future_door_events_neither_get_lost_nor_freeze_the_door(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let secret = hub.source("door-ctl").await;
    let guard = hub.login("guard").await;
    let now = chrono::Utc::now();
    let locked = at(
        door_event("ev-lock", &first_door(), "LockPhysicalState", "Locked"),
        now,
    );
    let opened_before = at(
        door_event("ev-open", &first_door(), "DoorPhysicalState", "Open"),
        now - chrono::Duration::seconds(5),
    );
    for event in [&locked, &opened_before] {
        let (_, answer) = hub.post_events("door-ctl", &secret, event).await;
        assert_eq!(status(&answer), "accepted", "{answer}");
    }
    let shown = door(&hub, &guard).await;
    assert_eq!(
        (shown["door_state"].as_str(), shown["lock_state"].as_str()),
        (Some("Open"), Some("Locked")),
        "the late position report counts: {shown}"
    );
    // An older report of the same attribute still does not overwrite a newer one.
    let closed_earlier = at(
        door_event("ev-old", &first_door(), "DoorPhysicalState", "Closed"),
        now - chrono::Duration::seconds(10),
    );
    hub.post_events("door-ctl", &secret, &closed_earlier).await;
    assert_eq!(door(&hub, &guard).await["door_state"], "Open");

    let from_2099 = at(
        door_event("ev-2099", &first_door(), "DoorPhysicalState", "Closed"),
        chrono::DateTime::parse_from_rfc3339("2099-01-01T00:00:00Z")
            .expect("time")
            .to_utc(),
    );
    let (_, answer) = hub.post_events("door-ctl", &secret, &from_2099).await;
    assert_eq!(status(&answer), "rejected", "{answer}");
    assert!(
        answer["results"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("future")),
        "{answer}"
    );
    let closed_now = at(
        door_event("ev-closed", &first_door(), "DoorPhysicalState", "Closed"),
        chrono::Utc::now(),
    );
    let (_, answer) = hub.post_events("door-ctl", &secret, &closed_now).await;
    assert_eq!(status(&answer), "accepted", "{answer}");
    assert_eq!(
        door(&hub, &guard).await["door_state"],
        "Closed",
        "the door follows the present, not 2099"
    );
    hub.running.stop().await;
}
on_both!(late_and_future_door_events_neither_get_lost_nor_freeze_the_door);

/// A door forced open again and again while its alarm is new raises one alarm that counts
/// the repeats, and the recorder serving the door's camera is told of each (it keeps the video
/// around every one). Once a guard acknowledged it, the next forced opening is a new alarm that
/// alerts again; another source's forced opening never counts on this source's alarm.
async fn a_door_that_keeps_toggling_raises_one_alarm_while_it_is_new(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let secret = hub.source("door-ctl").await;
    let other = hub.source("door-ctl-2").await;
    let guard = hub.login("guard").await;
    let admin = hub.login("it-admin").await;
    let key = keys::SigningKey::ephemeral();
    crate::evidence::register(&hub, &admin, "rec-1", &key).await;
    let forced = |n: usize| {
        door_event(
            &format!("forced-{n}"),
            &first_door(),
            "DoorAlarm",
            "DoorForcedOpen",
        )
    };
    for n in 0..5 {
        let (_, answer) = hub.post_events("door-ctl", &secret, &forced(n)).await;
        assert_eq!(status(&answer), "accepted", "{answer}");
    }
    let raised = alarms(&hub, &guard).await;
    assert_eq!(raised.len(), 1, "one alarm for one door: {raised:?}");
    assert_eq!(raised[0]["repeats"], 4, "{raised:?}");
    assert!(raised[0]["last_repeat"].is_string(), "{raised:?}");
    let alarm = raised[0]["id"].as_str().expect("id").to_owned();
    let (code, told) = crate::evidence::sync(
        &hub,
        "rec-1",
        &key,
        chrono::Utc::now().timestamp_millis(),
        &crate::evidence::empty_report(),
    )
    .await;
    assert_eq!(code, 200, "{told}");
    let marks = told["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["id"].as_str().is_some_and(|id| id.starts_with(&alarm)))
        .count();
    assert_eq!(
        marks, 5,
        "the alarm and each repeat keep their video: {told}"
    );

    let (_, answer) = hub.post_events("door-ctl-2", &other, &forced(0)).await;
    assert_eq!(status(&answer), "accepted", "{answer}");
    assert_eq!(
        alarms(&hub, &guard).await.len(),
        2,
        "another source's alarm is its own"
    );
    let (code, _) = hub
        .call(
            Method::POST,
            &format!("/api/v1/alarms/{alarm}/acknowledge"),
            &guard,
            Some(json!({"request_id": "ack-1", "comment": "on my way"})),
        )
        .await;
    assert_eq!(code, 200);
    hub.post_events("door-ctl", &secret, &forced(5)).await;
    let raised = alarms(&hub, &guard).await;
    assert_eq!(
        raised.len(),
        3,
        "forced again after the acknowledgement: a new alarm: {raised:?}"
    );
    let first = raised
        .iter()
        .find(|a| a["id"] == alarm.as_str())
        .expect("the first");
    assert_eq!(first["repeats"], 4, "not counted on the acknowledged one");
    hub.running.stop().await;
}
on_both!(a_door_that_keeps_toggling_raises_one_alarm_while_it_is_new);
