//! What the recorder tells the hub as it happens: a camera stream going offline and coming
//! back, and a disk full of locked video (its health and refused tickets go by the periodic
//! sync, [`crate::hub_sync`]). Posted as events through the hub's signed
//! webhook (a source the IT admin registers for the recorder), so that the hub keeps them with
//! the site's other events and its alarm rules can raise an alarm on them (a camera offline, a
//! recorder out of space). Each event's id is unique per recorder and instant: the hub drops
//! a repeated one.

use crate::recording::StreamEvent;
use contract::IngestEvent;

/// The event type of a stream going offline or online (`state`: `Offline`, `Online`).
pub const CAMERA_STREAM: &str = "CameraStream";
/// The event type of a recorder's storage (`state`: `Full`).
pub const RECORDER_STORAGE: &str = "RecorderStorage";

/// At most `max` bytes of `text`, cut at a character boundary.
fn clip(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// An id the hub takes (at most 128 characters of its alphabet), unique for what `parts`
/// name: a digest, so that long recorder and camera names fit.
fn event_id(parts: &[&str], at_us: i64) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(parts.join("\u{1f}").as_bytes());
    format!("rec-{at_us}-{}", &hex::encode(digest)[..24])
}

/// A Unix time in microseconds as RFC 3339 (milliseconds, UTC), if it is one.
pub fn rfc3339(us: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// A recorded stream's change as the hub's event.
pub fn stream_event(recorder: &str, site: &str, event: &StreamEvent) -> IngestEvent {
    let (camera, kind, at_us, event_type, state, topic) = match event {
        StreamEvent::Offline {
            camera,
            kind,
            at_us,
            reason,
        } => (
            camera,
            kind,
            *at_us,
            CAMERA_STREAM,
            "Offline",
            Some(reason.clone()),
        ),
        StreamEvent::Online {
            camera,
            kind,
            at_us,
        } => (camera, kind, *at_us, CAMERA_STREAM, "Online", None),
        StreamEvent::DiskFull {
            camera,
            kind,
            at_us,
        } => (camera, kind, *at_us, RECORDER_STORAGE, "Full", None),
    };
    IngestEvent {
        id: event_id(&[recorder, camera, kind.as_str(), state], at_us),
        time: rfc3339(at_us).unwrap_or_default(),
        site: site.to_owned(),
        door: None,
        camera: Some(camera.clone()),
        // The stream and, for an outage, why: the console shows the topic.
        topic: Some(clip(
            &match topic {
                Some(reason) => format!("{} stream: {reason}", kind.as_str()),
                None => format!("{} stream", kind.as_str()),
            },
            250,
        )),
        event_type: event_type.to_owned(),
        state: Some(state.to_owned()),
    }
}

/// The webhook poster for `hub`.
pub fn poster(
    hub: &crate::config::HubConfig,
) -> Result<webhook::Webhook<IngestEvent>, crate::StartError> {
    let secret = std::fs::read_to_string(&hub.secret_file).map_err(|e| {
        crate::StartError::Hub(format!("cannot read {}: {e}", hub.secret_file.display()))
    })?;
    let ca_pem = hub
        .ca_file
        .as_ref()
        .map(|path| {
            std::fs::read(path)
                .map_err(|e| crate::StartError::Hub(format!("cannot read {}: {e}", path.display())))
        })
        .transpose()?;
    webhook::Webhook::start(
        webhook::WebhookSettings {
            hub: hub.url.clone(),
            source: hub.source.clone(),
            secret: secret.trim().as_bytes().to_vec(),
            ca_pem,
        },
        "hub-webhook",
    )
    .map_err(crate::StartError::Hub)
}

/// Posts each stream event to the hub, and hands the events on to `forward`, until `stop`.
pub fn run(
    poster: &webhook::Webhook<IngestEvent>,
    recorder: &str,
    site: &str,
    events: &std::sync::mpsc::Receiver<StreamEvent>,
    forward: &std::sync::mpsc::SyncSender<StreamEvent>,
    stop: &std::sync::atomic::AtomicBool,
) {
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        match events.recv_timeout(std::time::Duration::from_millis(200)) {
            Ok(event) => {
                if poster.post(stream_event(recorder, site, &event)).is_err() {
                    tracing::error!("the hub's queue is full: an event was not reported");
                }
                let _ = forward.try_send(event);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        // Stopping: what is already said still goes out.
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            for event in events.try_iter() {
                let _ = poster.post(stream_event(recorder, site, &event));
                let _ = forward.try_send(event);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StreamKind;
    use events::is_id;

    #[test]
    fn events_carry_the_camera_the_state_and_a_unique_id() {
        let offline = stream_event(
            "rec-1",
            "hq",
            &StreamEvent::Offline {
                camera: "cam01".into(),
                kind: StreamKind::Main,
                at_us: 1_800_000_000_123_456,
                reason: "the camera ended the stream".into(),
            },
        );
        assert_eq!(offline.event_type, CAMERA_STREAM);
        assert_eq!(offline.state.as_deref(), Some("Offline"));
        assert_eq!(offline.camera.as_deref(), Some("cam01"));
        assert_eq!(offline.time, "2027-01-15T08:00:00.123Z");
        assert!(
            offline.id.starts_with("rec-1800000000123456-"),
            "{}",
            offline.id
        );
        assert!(is_id(&offline.id) && offline.id.len() < 64);
        assert!(
            offline
                .topic
                .as_deref()
                .unwrap_or_default()
                .contains("ended the stream")
        );
    }
}
