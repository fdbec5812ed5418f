//! The recorder's sync with the hub, every `[hub] sync_interval`: its health (each recorded
//! stream's state, bitrate, recent gaps, and the storage left) and the stream tickets it
//! refused go out; the evidence locks that hold on its site come back and become the index's
//! hub locks, which retention never deletes, and those the hub names released are removed
//! (never one that is merely missing from an answer). The request is signed with the recorder's
//! Ed25519 key (`signing.key`, the public half registered on the hub), so it needs no secret
//! of its own. When the hub cannot be reached, the locks the recorder has stay as they are.

use crate::config::{HubConfig, StreamKind};
use crate::index::{Index, Lock};
use crate::recording::{State, StreamStatus};
use crate::report::rfc3339;
use crate::restream::Refused;
use contract::{
    RecorderReport, RecorderSync, RecordingState, RefusedTicket, StorageReport, StreamHealthReport,
    StreamName,
};
use std::time::Duration;

/// The window a stream's bitrate is measured over.
const BITRATE_WINDOW_US: i64 = 5 * 60 * 1_000_000;
const DAY_US: i64 = 86_400 * 1_000_000;

/// Why a sync did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the hub cannot be reached: {0}")]
    Unreachable(String),
    #[error("the hub refused the sync ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("the hub's answer is not a sync: {0}")]
    Answer(String),
}

/// A signed connection to the hub's sync endpoint.
#[derive(Debug)]
pub struct HubSync {
    roots: Vec<reqwest::Certificate>,
    /// Made on the syncing thread (a blocking client may not be made or dropped inside an
    /// async runtime, where a caller of `Recorder::start` may be).
    client: Option<reqwest::blocking::Client>,
    url: String,
    recorder: String,
    signer: keys::SigningKey,
}

impl HubSync {
    /// Reads what it needs now (the hub's CA file), so that a bad one fails the start.
    pub fn new(hub: &HubConfig, recorder: &str, signer: keys::SigningKey) -> Result<Self, String> {
        let ca_pem = hub
            .ca_file
            .as_ref()
            .map(|path| {
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
            })
            .transpose()?;
        Ok(Self {
            roots: webhook::hub_roots(ca_pem.as_deref())?,
            client: None,
            url: format!(
                "{}/api/v1/recorders/{recorder}/sync",
                hub.url.trim_end_matches('/')
            ),
            recorder: recorder.to_owned(),
            signer,
        })
    }

    fn client(&mut self) -> Result<&reqwest::blocking::Client, SyncError> {
        if self.client.is_none() {
            let mut builder = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10));
            for certificate in &self.roots {
                builder = builder.add_root_certificate(certificate.clone());
            }
            self.client = Some(
                builder
                    .build()
                    .map_err(|e| SyncError::Unreachable(format!("HTTP client: {e}")))?,
            );
        }
        self.client
            .as_ref()
            .ok_or_else(|| SyncError::Unreachable("no HTTP client".into()))
    }

    /// Posts `report`, signed; the hub's answer.
    pub fn sync(
        &mut self,
        report: &RecorderReport,
        now_ms: i64,
    ) -> Result<RecorderSync, SyncError> {
        let body = serde_json::to_vec(report).map_err(|e| SyncError::Answer(e.to_string()))?;
        let timestamp = now_ms.to_string();
        let signature = self.signer.sign_hex(&contract::recorder_signed_message(
            &self.recorder,
            &timestamp,
            &body,
        ));
        let url = self.url.clone();
        let response = self
            .client()?
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(contract::RECORDER_TIMESTAMP_HEADER, &timestamp)
            .header(contract::RECORDER_SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let message: String = response
                .text()
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect();
            return Err(SyncError::Refused {
                status: status.as_u16(),
                message,
            });
        }
        response
            .json::<RecorderSync>()
            .map_err(|e| SyncError::Answer(e.to_string()))
    }
}

/// The stream as the hub names it.
fn stream_name(kind: StreamKind) -> StreamName {
    match kind {
        StreamKind::Main => StreamName::Main,
        StreamKind::Sub => StreamName::Sub,
    }
}

/// The health of the recorded streams and of the storage, at `now_us`.
pub fn report(
    index: &Index,
    statuses: &[StreamStatus],
    free_bytes: u64,
    refused: Vec<Refused>,
    now_us: i64,
) -> RecorderReport {
    let streams = statuses
        .iter()
        .map(|status| {
            let (state, reason) = match &status.state {
                State::Connecting | State::Stopped => (RecordingState::Connecting, None),
                State::Recording => (RecordingState::Recording, None),
                State::Offline { reason, .. } => (RecordingState::Offline, Some(reason.clone())),
                State::DiskFull { .. } => (RecordingState::DiskFull, None),
            };
            let (bytes, span_us) = index
                .recent_bytes(&status.camera, status.kind, now_us - BITRATE_WINDOW_US)
                .unwrap_or((0, 0));
            let bitrate_bps = if span_us > 0 {
                (u128::from(bytes) * 8 * 1_000_000 / span_us as u128) as u64
            } else {
                0
            };
            let outages = index
                .outages(&status.camera, status.kind, now_us - DAY_US, now_us)
                .unwrap_or_default();
            let gap_us: i64 = outages
                .iter()
                .map(|o| o.end_us.unwrap_or(now_us).min(now_us) - o.start_us.max(now_us - DAY_US))
                .sum();
            StreamHealthReport {
                camera: status.camera.clone(),
                stream: stream_name(status.kind),
                state,
                reason,
                bitrate_bps,
                recorded_until: status.recorded_until_us.and_then(rfc3339),
                gaps_24h: outages.len() as u32,
                gap_seconds_24h: (gap_us.max(0) / 1_000_000) as u64,
            }
        })
        .collect();
    let used_bytes = index
        .usage()
        .map(|usage| usage.iter().map(|(_, bytes)| bytes).sum())
        .unwrap_or(0);
    RecorderReport {
        at: rfc3339(now_us).unwrap_or_default(),
        storage: StorageReport {
            used_bytes,
            free_bytes,
            locked_bytes: index.locked_bytes().unwrap_or(0),
        },
        streams,
        refused: refused
            .into_iter()
            .map(|r| RefusedTicket {
                at: rfc3339(r.at_ms.saturating_mul(1000)).unwrap_or_default(),
                camera: events::is_id(&r.camera).then(|| r.camera.clone()),
                stream: stream_name(r.kind),
                mode: r.mode,
                user: r.user,
                reason: r.reason.to_string(),
            })
            .collect(),
    }
}

/// The hub's locks as the index keeps them; an error (and nothing kept) when one of them
/// cannot be read.
pub fn locks_of(sync: &RecorderSync) -> Result<Vec<Lock>, SyncError> {
    let us = |text: &str| {
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp_micros())
    };
    sync.locks
        .iter()
        .map(|lock| {
            let read = (us(&lock.from), us(&lock.to), us(&lock.created_at));
            let (Some(start_us), Some(end_us), Some(created_us)) = read else {
                return Err(SyncError::Answer(format!(
                    "lock `{}` has times that cannot be read",
                    lock.id
                )));
            };
            Ok(Lock {
                id: lock.id.clone(),
                camera: lock.camera.clone(),
                start_us,
                end_us,
                reason: lock.reason.clone(),
                created_by: lock.created_by.clone(),
                created_us,
            })
        })
        .collect()
}

/// The ranges the cameras recorded around events keep for the events in `sync`: `(mark id,
/// camera, start, end)`, from each camera's pre-roll before the event to its post-roll after.
pub fn marks_of(
    sync: &RecorderSync,
    around_events: &std::collections::BTreeMap<String, crate::config::EventWindow>,
) -> Vec<(String, String, i64, i64)> {
    sync.events
        .iter()
        .filter_map(|event| {
            let window = around_events.get(&event.camera)?;
            let at_us = chrono::DateTime::parse_from_rfc3339(&event.at)
                .ok()?
                .timestamp_micros();
            let us = |d: std::time::Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
            Some((
                format!("{}:{}", event.id, event.camera),
                event.camera.clone(),
                at_us.saturating_sub(us(window.pre_roll)),
                at_us.saturating_add(us(window.post_roll)),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::kind_of;

    #[test]
    fn stream_names_round_trip() {
        for kind in StreamKind::ALL {
            assert_eq!(kind_of(stream_name(kind)), kind);
        }
    }

    #[test]
    fn a_report_tells_state_bitrate_gaps_and_storage() {
        use crate::index::{Clock, NewSegment};
        let dir = std::env::temp_dir().join(format!("rec-health-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let index = Index::open(&dir.join("index.db")).expect("index");
        let s = 1_000_000;
        let now = 1_000 * s;
        for n in 0..6 {
            index
                .add_segment(&NewSegment {
                    camera: "cam01".into(),
                    kind: StreamKind::Main,
                    file: format!("{n}.mp4"),
                    start_us: now - (6 - n) * 10 * s,
                    end_us: now - (5 - n) * 10 * s,
                    // 1 Mbit/s.
                    bytes: 1_250_000,
                    clock: Clock::Camera,
                    codec: "h264".into(),
                    run: 1,
                    seq: n,
                })
                .expect("segment");
        }
        index
            .open_outage("cam01", StreamKind::Main, now - 3600 * s, "gone")
            .expect("outage");
        index
            .close_outage("cam01", StreamKind::Main, now - 3590 * s)
            .expect("closed");
        index
            .add_lock(&Lock {
                id: "l1".into(),
                camera: "cam01".into(),
                start_us: now - 60 * s,
                end_us: now - 45 * s,
                reason: "r".into(),
                created_by: "u".into(),
                created_us: now,
            })
            .expect("lock");
        let status = StreamStatus {
            camera: "cam01".into(),
            kind: StreamKind::Main,
            state: State::Offline {
                since_us: now - s,
                reason: "the camera ended the stream".into(),
            },
            codec: Some("h264".into()),
            segments: 6,
            bytes: 0,
            clock: Some(Clock::Camera),
            recorded_until_us: Some(now - 10 * s),
        };
        let report = report(&index, &[status], 42, Vec::new(), now);
        let stream = &report.streams[0];
        assert_eq!(stream.state, RecordingState::Offline);
        assert_eq!(
            stream.reason.as_deref(),
            Some("the camera ended the stream")
        );
        assert_eq!(stream.bitrate_bps, 1_000_000);
        assert_eq!((stream.gaps_24h, stream.gap_seconds_24h), (1, 10));
        assert_eq!(report.storage.used_bytes, 6 * 1_250_000);
        assert_eq!(report.storage.free_bytes, 42);
        assert_eq!(
            report.storage.locked_bytes,
            2 * 1_250_000,
            "two segments under the lock"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
