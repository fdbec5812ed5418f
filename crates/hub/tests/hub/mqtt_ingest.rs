//! MQTT ingest that another publisher on the broker cannot forge, and that loses nothing while
//! the hub is away. Before messages were signed per source, anyone who could publish on a
//! site's topic raised alarms there; before the hub kept a session at the broker, what was
//! published while it was down was gone.

use crate::on_both;
use crate::support::{Backend, PASSWORD, SITE, TestHub, database, door_event, scratch, wait_for};
use hub::model::Role;
use rumqttc::{AsyncClient, Event, Packet, QoS};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use testkit::SecureMosquitto;

/// The broker's accounts: the hub, the site's door controller, and someone else with an account
/// (a camera's, a contractor's) who should not be able to raise or hide alarms.
const USERS: [(&str, &str); 3] = [
    ("hub", "hub-pw"),
    ("doors", "doors-pw"),
    ("intruder", "intruder-pw"),
];

fn client_id(who: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "test-{who}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// How `user` reaches the broker: TLS trusting its CA, with its password.
fn settings(broker: &SecureMosquitto, user: &str, client_id: String) -> mqtt::Settings {
    let password = USERS
        .iter()
        .find(|(name, _)| *name == user)
        .map(|(_, password)| password.to_string());
    mqtt::Settings {
        url: broker.url(),
        client_id,
        ca_pem: Some(broker.ca_pem().as_bytes().to_vec()),
        username: Some(user.into()),
        password,
        client_identity: None,
    }
}

/// Publishes each payload on the site's topic as `user`, QoS 1, and returns once the broker
/// has acknowledged them all.
async fn publish(broker: &SecureMosquitto, user: &str, payloads: Vec<String>) {
    hub::serve::install_crypto();
    let options = settings(broker, user, client_id(user))
        .options()
        .expect("the publisher's options");
    let (client, mut connection) = AsyncClient::new(options, 64);
    let count = payloads.len();
    for payload in payloads {
        client
            .publish(events::mqtt_topic(SITE), QoS::AtLeastOnce, false, payload)
            .await
            .expect("queued");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut acknowledged = 0;
    while acknowledged < count {
        let event = tokio::time::timeout_at(deadline, connection.poll())
            .await
            .expect("the broker acknowledges in time")
            .expect("connected to the broker");
        if let Event::Incoming(Packet::PubAck(_)) = event {
            acknowledged += 1;
        }
    }
}

fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

/// `body` from `source` on the demo site's topic, signed with `secret` now.
fn signed(source: &str, secret: &[u8], body: String) -> events::MqttMessage {
    events::MqttMessage::signed(source, secret, &events::mqtt_topic(SITE), now_s(), body)
}

/// Posts an MQTT message's body with its timestamp and signature to the webhook of its source.
async fn post_raw_webhook(hub: &TestHub, message: &events::MqttMessage) -> (u16, String) {
    let answer = hub
        .http
        .post(hub.url(&format!("/api/v1/ingest/{}", message.source)))
        .header("content-type", "application/json")
        .header(events::TIMESTAMP_HEADER, &message.timestamp)
        .header(events::SIGNATURE_HEADER, &message.signature)
        .body(message.body.clone())
        .send()
        .await
        .expect("the hub answers");
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap_or_default())
}

/// A forced-open event from the controller's own log, as JSON text.
fn forced(id: &str, door: &str) -> String {
    door_event(id, door, "DoorAlarm", "DoorForcedOpen").to_string()
}

async fn list(hub: &TestHub, token: &str, what: &str) -> Vec<Value> {
    hub.list(&format!("/api/v1/{what}?site={SITE}"), token)
        .await
}

async fn forged_mqtt_messages_raise_nothing(backend: Backend) {
    let broker = SecureMosquitto::start(&USERS).expect("mosquitto with TLS and passwords");
    let hub = TestHub::start_with(
        backend,
        database(backend),
        Some(settings(&broker, "hub", client_id("hub"))),
    )
    .await;
    let secret = hub.source("sim-doors").await;
    // A second site with a controller of its own.
    let branch_secret = hub.other_site("branch", "branch-doors").await;
    let guard = hub.login("guard").await;
    let real = signed("sim-doors", &secret, forced("ctl-1", "door01"));

    // Someone else with an account on the broker: events without a signature (what the hub
    // took before), a guessed secret, the controller's signature over another body, a source
    // that does not exist, the other site's controller on this site's topic (signed for it, and
    // signed for its own topic), and a webhook request's signature.
    let unsigned: Value = serde_json::from_str(&forced("x-1", "door02")).expect("JSON");
    let for_branch = events::MqttMessage::signed(
        "branch-doors",
        &branch_secret,
        &events::mqtt_topic("branch"),
        now_s(),
        forced("x-6", "door02"),
    );
    let webhook_signed = events::MqttMessage {
        signature: events::sign(&secret, &real.timestamp, forced("x-7", "door02").as_bytes()),
        body: forced("x-7", "door02"),
        ..real.clone()
    };
    publish(
        &broker,
        "intruder",
        vec![
            json!([unsigned]).to_string(),
            signed("sim-doors", b"guess", forced("x-2", "door02")).to_payload(),
            events::MqttMessage {
                body: forced("x-3", "door02"),
                ..real.clone()
            }
            .to_payload(),
            signed("nobody", &secret, forced("x-4", "door02")).to_payload(),
            signed("branch-doors", &branch_secret, forced("x-5", "door02")).to_payload(),
            for_branch.to_payload(),
            webhook_signed.to_payload(),
        ],
    )
    .await;
    // Nor does a message seen on the broker pass as a webhook request.
    let (status, answer) = post_raw_webhook(&hub, &real).await;
    assert_eq!(
        status, 403,
        "an MQTT signature is not a webhook's: {answer}"
    );
    // The controller's own message raises its alarm.
    publish(&broker, "doors", vec![real.to_payload()]).await;
    let alarm = wait_for("the controller's alarm", async || {
        list(&hub, &guard, "alarms")
            .await
            .into_iter()
            .find(|a| a["door"] == "door01")
    })
    .await;
    // Replayed by the intruder: nothing new. Then one more real event, to know the replay
    // has been read (one broker, one subscription: in order).
    publish(&broker, "intruder", vec![real.to_payload()]).await;
    let granted = door_event("ctl-2", "door01", "AccessGranted", "Granted").to_string();
    let last = signed("sim-doors", &secret, granted);
    publish(&broker, "doors", vec![last.to_payload()]).await;
    let events = wait_for("the controller's last event", async || {
        let events = list(&hub, &guard, "events").await;
        events.iter().any(|e| e["id"] == "ctl-2").then_some(events)
    })
    .await;
    let ids: Vec<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    assert!(
        ids.iter().all(|id| !id.starts_with("x-")),
        "no forged event was stored: {ids:?}"
    );
    let alarms = list(&hub, &guard, "alarms").await;
    assert_eq!(alarms.len(), 1, "one alarm, the controller's: {alarms:?}");
    assert_eq!(alarms[0]["id"], alarm["id"]);
    assert_eq!(alarms[0]["repeats"], 0, "the replay was a duplicate");
    hub.running.stop().await;
}
on_both!(forged_mqtt_messages_raise_nothing);

async fn events_published_while_the_hub_is_down_reach_it_when_it_returns(backend: Backend) {
    let broker = SecureMosquitto::start(&USERS).expect("mosquitto with TLS and passwords");
    let database = database(backend);
    let data = scratch("mqtt-away");
    let hub_session = settings(&broker, "hub", client_id("hub"));
    let config = || hub::serve::ServeConfig {
        database: database.clone(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        data_dir: data.clone(),
        tls: hub::serve::Tls::Off,
        cors_origins: Vec::new(),
        mqtt: Some(hub_session.clone()),
        console: None,
        edge: Default::default(),
    };
    let first = testsite::DemoHub::builder(config())
        .user("guard", PASSWORD, "*", Role::Guard)
        .source("sim-doors")
        .start()
        .await;
    let (_, secret) = first.source.clone().expect("the source");
    let hub = TestHub {
        running: first.running,
        http: reqwest::Client::new(),
    };
    let guard = hub.login("guard").await;
    let message =
        |id: &str, door: &str| signed("sim-doors", &secret, forced(id, door)).to_payload();
    // Subscribed: its first alarm arrives.
    publish(&broker, "doors", vec![message("ctl-1", "door01")]).await;
    wait_for("the first alarm", async || {
        let alarms = list(&hub, &guard, "alarms").await;
        (!alarms.is_empty()).then_some(())
    })
    .await;

    // The hub goes away; a door is forced meanwhile.
    hub.running.stop().await;
    publish(&broker, "doors", vec![message("ctl-2", "door02")]).await;

    // Back on the same database and session: the alarm that waited at the broker arrives.
    let clock: hub::SharedClock = std::sync::Arc::new(hub::SystemClock);
    let hub = TestHub {
        running: hub::serve::start(config(), clock)
            .await
            .expect("the hub starts again"),
        http: reqwest::Client::new(),
    };
    let guard = hub.login("guard").await;
    wait_for("the alarm raised while the hub was down", async || {
        list(&hub, &guard, "alarms")
            .await
            .into_iter()
            .find(|a| a["door"] == "door02")
    })
    .await;
    hub.running.stop().await;
}
on_both!(events_published_while_the_hub_is_down_reach_it_when_it_returns);

/// A hub told to use a broker over the network without TLS, or without saying who it is,
/// refuses to start instead of ingesting whatever anyone sends.
#[tokio::test]
async fn a_hub_refuses_plain_or_anonymous_mqtt_off_loopback() {
    for (url, user, expected) in [
        ("mqtt://192.0.2.10:1883", Some("hub"), "must use TLS"),
        ("mqtts://192.0.2.10:8883", None, "must know who connects"),
    ] {
        let config = hub::serve::ServeConfig {
            database: database(Backend::Sqlite),
            listen: "127.0.0.1:0".parse().expect("addr"),
            data_dir: scratch("mqtt-refused"),
            tls: hub::serve::Tls::Off,
            cors_origins: Vec::new(),
            mqtt: Some(mqtt::Settings {
                url: url.into(),
                client_id: "watchfloor-hub".into(),
                username: user.map(str::to_owned),
                password: user.map(|_| "pw".to_owned()),
                ..Default::default()
            }),
            console: None,
            edge: Default::default(),
        };
        let clock: hub::SharedClock = std::sync::Arc::new(hub::SystemClock);
        let Err(error) = hub::serve::start(config, clock).await else {
            panic!("{url} is refused")
        };
        assert!(error.to_string().contains(expected), "{url}: {error}");
    }
}
