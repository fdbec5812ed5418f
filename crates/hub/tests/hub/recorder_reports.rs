//! A real recorder reports to the hub: a camera stopped through the simulator becomes a
//! `CameraStream` `Offline` event on the hub and, through the default rules, a "Camera
//! offline" alarm; its return an `Online` event.

use crate::support::{Backend, SITE, TestHub};
use reqwest::Method;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_camera_becomes_an_offline_event_and_an_alarm_on_the_hub() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let admin = hub.login("it-admin").await;
    let beside = hub.recorder_beside("reporting-recorder").await;
    let sim = &beside.sim;
    let config = beside.config(
        "segment = \"2s\"\nstall_timeout = \"2s\"\nreconnect_max = \"500ms\"\nrecord = \"sub\"",
        "",
        "",
    );
    let recorder = recorder::Recorder::start(config).expect("the recorder starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !recorder
        .status()
        .iter()
        .any(|s| s.state == recorder::recording::State::Recording)
    {
        assert!(Instant::now() < deadline, "{:?}", recorder.status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sim.cameras()
        .apply("cam01", sim::Fault::Stop)
        .expect("stop");
    let stopped = Instant::now();

    // The event, then the alarm, within seconds.
    let offline = loop {
        let found = system_events(&hub, &admin)
            .await
            .into_iter()
            .find(|e| e["type"] == "CameraStream" && e["body"]["state"] == "Offline");
        if let Some(event) = found {
            break event;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(15),
            "no offline event on the hub"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(offline["camera"], "cam01", "{offline}");
    let reported_within = stopped.elapsed();
    let (status, alarms) = hub
        .call(
            Method::GET,
            &format!("/api/v1/alarms?site={SITE}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 200, "{alarms}");
    let offline_alarms: Vec<&serde_json::Value> = alarms
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["rule"] == "camera-offline")
        .collect();
    assert_eq!(
        offline_alarms.len(),
        1,
        "one Camera offline alarm: {alarms}"
    );
    assert_eq!(offline_alarms[0]["cameras"], serde_json::json!(["cam01"]));
    assert_eq!(offline_alarms[0]["title"], "Camera offline: cam01");
    assert!(
        reported_within < Duration::from_secs(10),
        "{reported_within:?}"
    );

    // Back: an online event.
    sim.cameras()
        .apply("cam01", sim::Fault::Start)
        .expect("start");
    let back = Instant::now();
    loop {
        if system_events(&hub, &admin)
            .await
            .iter()
            .any(|e| e["type"] == "CameraStream" && e["body"]["state"] == "Online")
        {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(20), "no online event");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(recorder);
}

/// The site's `system` events (what is neither a door nor a sensor), newest first.
async fn system_events(hub: &TestHub, token: &str) -> Vec<serde_json::Value> {
    let (status, list) = hub
        .call(
            Method::GET,
            &format!("/api/v1/events?site={SITE}&kind=system"),
            token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list.as_array().cloned().unwrap_or_default()
}
