//! Events in from the simulator's door controllers, by signed webhook and by MQTT through a
//! real Mosquitto, and door commands out to the simulator.

use crate::on_both;
use crate::support::{Backend, SITE, TestHub, database, door_event, first_door, wait_for};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;

async fn webhook_refuses_unsigned_and_misdirected_events(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let secret = hub.source("door-ctl").await;
    let event = door_event("e1", &first_door(), "DoorPhysicalState", "Open");
    let (status, body) = hub.post_events("door-ctl", b"wrong secret", &event).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let (status, _) = hub.post_events("no-such-source", &secret, &event).await;
    assert_eq!(status, 403);
    let unsigned = hub
        .http
        .post(hub.url("/api/v1/ingest/door-ctl"))
        .json(&event)
        .send()
        .await
        .expect("post");
    assert_eq!(unsigned.status(), 403);
    // A source may only speak for its own site; unknown doors are refused by name.
    let mut elsewhere = event.clone();
    elsewhere["site"] = json!("elsewhere");
    let mut bad_door = door_event("e2", "no-such-door", "DoorPhysicalState", "Open");
    bad_door["id"] = json!("e2");
    let (status, body) = hub
        .post_events("door-ctl", &secret, &json!([event, elsewhere, bad_door]))
        .await;
    assert_eq!(status, 200);
    let statuses: Vec<&str> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(statuses, ["accepted", "rejected", "rejected"]);
    assert!(
        body["results"][2]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("no-such-door")
    );
    let guard = hub.login("guard").await;
    let (_, site) = hub
        .call(Method::GET, &format!("/api/v1/sites/{SITE}"), &guard, None)
        .await;
    let door = site["doors"]
        .as_array()
        .expect("doors")
        .iter()
        .find(|d| d["id"] == first_door().as_str())
        .cloned()
        .expect("door");
    assert_eq!(
        door["door_state"], "Open",
        "the event moved the door's live state"
    );
    hub.running.stop().await;
}
on_both!(webhook_refuses_unsigned_and_misdirected_events);

/// The demo site served by a real simulator, doors quiet, with its control API on a port;
/// paired with the hub (taking only its signed commands) when given the source's `secret`.
pub async fn start_sim(
    outputs: Vec<Box<dyn sim::EventOutput>>,
    secret: Option<&[u8]>,
) -> (Arc<sim::Sim>, String) {
    let site = site::Site::load(&site::demo_site_path()).expect("demo site");
    let config = sim::SimConfig {
        command_key: secret.map(events::command_key),
        ..sim::SimConfig::quiet(site)
    };
    let sim = Arc::new(sim::Sim::start(config, outputs).expect("simulator"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let control = format!("http://{}", listener.local_addr().expect("addr"));
    let router = sim::control::router(sim.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (sim, control)
}

async fn simulator_events_reach_the_hub_and_commands_reach_the_simulator(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let secret = hub.source("sim-doors").await;
    let webhook = sim::Webhook::start(sim::WebhookSettings {
        hub: hub.running.url.clone(),
        source: "sim-doors".into(),
        secret: secret.clone(),
        ca_pem: None,
    })
    .expect("webhook output");
    let (sim, control) = start_sim(vec![Box::new(webhook)], Some(&secret)).await;
    let mut import = crate::support::demo_import();
    import.controller_url = Some(control.clone());
    import.controller_source = Some("sim-doors".into());
    hub.running
        .hub
        .import_site(hub::store::Actor::LocalAdmin, import)
        .await
        .expect("controller configured");
    let guard = hub.login("guard").await;
    let door = first_door();

    // A forced door in the simulator becomes an alarm on the hub, with the door's cameras.
    sim.door_command(&sim::DoorCommand::ForceOpen { door: door.clone() })
        .expect("force");
    let alarm = wait_for("the forced-open alarm", || async {
        let (_, alarms) = hub
            .call(
                Method::GET,
                &format!("/api/v1/alarms?site={SITE}"),
                &guard,
                None,
            )
            .await;
        alarms
            .as_array()?
            .iter()
            .find(|a| a["rule"] == "door-forced-open")
            .cloned()
    })
    .await;
    assert_eq!(alarm["door"], door.as_str());
    assert_eq!(alarm["priority"], 1);
    // Listed by when it was raised (a playback's timeline asks for its window).
    let raised = chrono::DateTime::parse_from_rfc3339(alarm["raised"].as_str().expect("raised"))
        .expect("an instant");
    let window = |from: chrono::DateTime<chrono::FixedOffset>, to| {
        let encode = |t: chrono::DateTime<chrono::FixedOffset>| {
            url::form_urlencoded::byte_serialize(t.to_rfc3339().as_bytes()).collect::<String>()
        };
        format!(
            "/api/v1/alarms?site={SITE}&from={}&to={}",
            encode(from),
            encode(to)
        )
    };
    let second = chrono::TimeDelta::seconds(1);
    for (from, to, listed) in [
        (raised - second, raised + second, true),
        (raised + second, raised + second * 2, false),
        (raised - second * 2, raised - second, false),
    ] {
        let (status, alarms) = hub.call(Method::GET, &window(from, to), &guard, None).await;
        assert_eq!(status, 200, "{alarms}");
        let found = alarms
            .as_array()
            .is_some_and(|list| list.iter().any(|a| a["id"] == alarm["id"]));
        assert_eq!(found, listed, "{from} to {to}: {alarms}");
    }
    let (status, _) = hub
        .call(
            Method::GET,
            &format!("/api/v1/alarms?site={SITE}&from=yesterday"),
            &guard,
            None,
        )
        .await;
    assert_eq!(status, 400, "not an instant");
    assert!(alarm["procedure"].as_str().unwrap_or("").contains("patrol"));

    // A guard's unlock goes to the simulator's controller, whose events come back.
    let (status, body) = hub
        .call(
            Method::POST,
            &format!("/api/v1/sites/{SITE}/doors/door02/commands"),
            &guard,
            Some(json!({"request_id": "unlock-1", "command": "momentary-unlock"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let unlocked = sim
        .door_status()
        .into_iter()
        .find(|d| d.id == "door02")
        .expect("door02");
    assert_eq!(
        format!("{:?}", unlocked.lock),
        "Unlocked",
        "the simulator's door obeyed"
    );
    wait_for("the unlock to come back as a door state", || async {
        let (_, site) = hub
            .call(Method::GET, &format!("/api/v1/sites/{SITE}"), &guard, None)
            .await;
        site["doors"]
            .as_array()?
            .iter()
            .find(|d| d["id"] == "door02" && d["lock_state"] == "Unlocked")
            .cloned()
    })
    .await;
    let admin = hub.login("it-admin").await;
    let (_, audit) = hub
        .call(
            Method::GET,
            &format!("/api/v1/audit?site={SITE}&action=door.command"),
            &admin,
            None,
        )
        .await;
    assert_eq!(
        audit.as_array().map(Vec::len),
        Some(1),
        "the command is audited once"
    );
    assert_eq!(audit[0]["user"], "u-guard");
    hub.running.stop().await;
}
on_both!(simulator_events_reach_the_hub_and_commands_reach_the_simulator);

async fn simulator_events_reach_the_hub_over_mqtt(backend: Backend) {
    // A broker on loopback: plain MQTT is allowed there (crates/mqtt), messages still signed.
    let broker = testkit::Mosquitto::start().expect("mosquitto");
    let on_loopback = |client_id: &str| mqtt::Settings {
        url: broker.url(),
        client_id: format!("{client_id}-{}", std::process::id()),
        ..Default::default()
    };
    let hub = TestHub::start_with(backend, database(backend), Some(on_loopback("hub"))).await;
    let secret = hub.source("sim-doors").await;
    let mqtt =
        sim::Mqtt::start(&on_loopback("sim"), SITE, "sim-doors", secret).expect("mqtt output");
    let (sim, _control) = start_sim(vec![Box::new(mqtt)], None).await;
    let guard = hub.login("guard").await;
    // The hub subscribes once connected; keep forcing until an alarm shows (QoS 1, no
    // retained messages, so events sent before the subscription are not expected).
    let alarm = wait_for("an alarm via MQTT", || async {
        sim.door_command(&sim::DoorCommand::ForceOpen {
            door: "door03".into(),
        })
        .expect("force");
        let (_, alarms) = hub
            .call(
                Method::GET,
                &format!("/api/v1/alarms?site={SITE}"),
                &guard,
                None,
            )
            .await;
        alarms
            .as_array()?
            .iter()
            .find(|a| a["door"] == "door03")
            .cloned()
    })
    .await;
    assert_eq!(alarm["state"], "new");
    let (_, events) = hub
        .call(
            Method::GET,
            &format!("/api/v1/events?site={SITE}&door=door03"),
            &guard,
            None,
        )
        .await;
    assert!(events.as_array().is_some_and(|e| !e.is_empty()));
    hub.running.stop().await;
}
on_both!(simulator_events_reach_the_hub_over_mqtt);

async fn tls_with_a_self_signed_certificate(backend: Backend) {
    let running = hub::serve::start(
        hub::serve::ServeConfig {
            database: database(backend),
            listen: "127.0.0.1:0".parse().expect("addr"),
            data_dir: crate::support::scratch("tls"),
            tls: hub::serve::Tls::SelfSigned,
            cors_origins: Vec::new(),
            mqtt: None,
            console: None,
            edge: Default::default(),
        },
        Arc::new(hub::SystemClock),
    )
    .await
    .expect("hub with TLS");
    assert!(running.url.starts_with("https://"));
    let pem = std::fs::read(running.certificate.as_ref().expect("self-signed")).expect("cert");
    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
        .build()
        .expect("client");
    let health: Value = trusting
        .get(format!("{}/api/v1/health", running.url))
        .send()
        .await
        .expect("https")
        .json()
        .await
        .expect("json");
    assert_eq!(health["status"], "ok");
    let untrusting = reqwest::Client::new();
    assert!(
        untrusting
            .get(format!("{}/api/v1/health", running.url))
            .send()
            .await
            .is_err(),
        "an unknown certificate is refused"
    );
    running.stop().await;
}
on_both!(tls_with_a_self_signed_certificate);
