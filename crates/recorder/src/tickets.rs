//! Stream tickets: who may open a camera's stream through the recorder, decided by the hub.
//! A ticket is the hub's signed [`contract::TicketClaims`] (`keys::sign_token`), given as the
//! RTSP Basic password; the recorder checks it with the hub's public key alone, so a viewer
//! costs no database lookup and no call to the hub. Pure: the time is passed in.
//!
//! What a valid ticket opens is its own stream only: the restream gives each stream's media
//! factory a role of its own ([`role_of`]) and the ticket's token that one role, so a request
//! that names one stream in its path and another in its control URL gets nothing.

use crate::config::StreamKind;
use contract::{StreamMode, StreamName, TicketClaims};

/// Why a ticket was refused, in words for the hub's audit trail and the recorder's log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no ticket was given")]
    Missing,
    #[error("the ticket is not signed by the hub (forged or altered)")]
    Forged,
    #[error("the ticket is not a stream ticket")]
    Malformed,
    #[error("the ticket is for recorder `{0}`, not this one")]
    OtherRecorder(String),
    #[error("the ticket expired {0} s ago")]
    Expired(i64),
    #[error("the ticket is issued in the future (clocks differ by {0} s)")]
    NotYetValid(i64),
    #[error("the ticket is for {ticket}, not {asked}")]
    OtherStream { ticket: String, asked: String },
    #[error("the request's path is not a stream's: {0}")]
    BadPath(String),
}

/// How far the hub's and the recorder's clocks may disagree.
pub const CLOCK_SKEW_MS: i64 = 30_000;

/// Checks `ticket`'s signature, recorder and time at `now_ms`; its claims when it is good.
/// Which stream it opens is the claims' (see [`role_of`]).
pub fn check(
    hub_key: &str,
    recorder: &str,
    ticket: &str,
    now_ms: i64,
) -> Result<TicketClaims, Refusal> {
    if ticket.is_empty() {
        return Err(Refusal::Missing);
    }
    let payload = keys::open_token(hub_key, ticket).ok_or(Refusal::Forged)?;
    let claims: TicketClaims = serde_json::from_slice(&payload).map_err(|_| Refusal::Malformed)?;
    if claims.recorder != recorder {
        return Err(Refusal::OtherRecorder(claims.recorder));
    }
    if now_ms >= claims.expires_ms + CLOCK_SKEW_MS {
        return Err(Refusal::Expired((now_ms - claims.expires_ms) / 1000));
    }
    if claims.issued_ms > now_ms + CLOCK_SKEW_MS {
        return Err(Refusal::NotYetValid((claims.issued_ms - now_ms) / 1000));
    }
    Ok(claims)
}

/// The stream a ticket opens, as its [`StreamKind`].
pub fn kind_of(stream: StreamName) -> StreamKind {
    match stream {
        StreamName::Main => StreamKind::Main,
        StreamName::Sub => StreamKind::Sub,
    }
}

/// The role that opens one stream's live or recorded media factory (a GStreamer structure
/// name).
pub fn role_of(camera: &str, kind: StreamKind, mode: StreamMode) -> String {
    format!("{}:{camera}/{}", mode.as_str(), kind.as_str())
}

/// What a request asks for: a camera's stream, live or recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub camera: String,
    pub kind: StreamKind,
    pub mode: StreamMode,
}

/// The stream a raw RTSP request path names: `/<camera>/<main|sub>` (live) or
/// `/<camera>/<main|sub>/replay` (recorded), with an optional control suffix `/stream=<n>`;
/// a recorded stream's may name its first instant, `?from=<Unix µs>` and nothing else.
/// Dot segments and percent-escapes are refused, not resolved: the server matches the raw
/// path.
pub fn stream_of_path(path: &str) -> Result<Asked, Refusal> {
    let bad = || Refusal::BadPath(path.chars().take(200).collect());
    let (path_only, query) = match path.split_once('?') {
        Some((path_only, query)) => (path_only, Some(query)),
        None => (path, None),
    };
    let instant = |q: &str| {
        q.strip_prefix("from=").is_some_and(|n| {
            let digits = n.strip_prefix('-').unwrap_or(n);
            (1..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        })
    };
    if path.contains('%') || path.contains('#') || query.is_some_and(|q| !instant(q)) {
        return Err(bad());
    }
    let mut parts = path_only.strip_prefix('/').ok_or_else(bad)?.split('/');
    let camera = parts
        .next()
        .filter(|c| !c.is_empty() && *c != "." && *c != "..")
        .ok_or_else(bad)?;
    let kind = parts.next().and_then(StreamKind::parse).ok_or_else(bad)?;
    let mut rest: Vec<&str> = parts.collect();
    let mode = if rest.first() == Some(&"replay") {
        rest.remove(0);
        StreamMode::Replay
    } else {
        StreamMode::Live
    };
    let control = |part: &str| {
        part.strip_prefix("stream=")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    match rest.as_slice() {
        [] => {}
        [part] if control(part) => {}
        _ => return Err(bad()),
    }
    if query.is_some() && (mode != StreamMode::Replay || !rest.is_empty()) {
        return Err(bad());
    }
    Ok(Asked {
        camera: camera.to_owned(),
        kind,
        mode,
    })
}

/// The path of a raw request URI (`rtsp://host:port/path`), unresolved.
pub fn raw_path(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    rest.find('/').map_or("/", |at| &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use keys::SigningKey;

    fn ticket(hub: &SigningKey, recorder: &str, issued: i64, expires: i64) -> String {
        let claims = TicketClaims {
            id: "t-1".into(),
            user: "u-guard".into(),
            site: "demo".into(),
            recorder: recorder.into(),
            camera: "cam01".into(),
            stream: StreamName::Main,
            mode: contract::StreamMode::Live,
            issued_ms: issued,
            expires_ms: expires,
        };
        keys::sign_token(hub, &serde_json::to_vec(&claims).expect("json"))
    }

    #[test]
    fn a_ticket_opens_only_on_its_recorder_until_it_expires() {
        let hub = SigningKey::ephemeral();
        let key = hub.public_hex();
        let now = 1_800_000_000_000;
        let good = ticket(&hub, "rec-1", now, now + 120_000);
        let claims = check(&key, "rec-1", &good, now + 1000).expect("opens");
        assert_eq!(claims.user, "u-guard");
        assert_eq!(
            role_of(&claims.camera, kind_of(claims.stream), claims.mode),
            "live:cam01/main"
        );
        assert_eq!(
            check(&key, "rec-1", &good, now + 200_000),
            Err(Refusal::Expired(80))
        );
        assert_eq!(
            check(&key, "rec-2", &good, now),
            Err(Refusal::OtherRecorder("rec-1".into()))
        );
        let forged = ticket(&SigningKey::ephemeral(), "rec-1", now, now + 120_000);
        assert_eq!(check(&key, "rec-1", &forged, now), Err(Refusal::Forged));
        let future = ticket(&hub, "rec-1", now + 600_000, now + 700_000);
        assert!(matches!(
            check(&key, "rec-1", &future, now),
            Err(Refusal::NotYetValid(_))
        ));
        let not_claims = keys::sign_token(&hub, b"[1,2,3]");
        assert_eq!(
            check(&key, "rec-1", &not_claims, now),
            Err(Refusal::Malformed)
        );
        assert_eq!(check(&key, "rec-1", "", now), Err(Refusal::Missing));
    }

    #[test]
    fn request_paths_name_a_camera_stream_and_tricks_are_refused() {
        let asked = |camera: &str, kind, mode| {
            Ok(Asked {
                camera: camera.into(),
                kind,
                mode,
            })
        };
        assert_eq!(
            stream_of_path("/cam01/main"),
            asked("cam01", StreamKind::Main, StreamMode::Live)
        );
        assert_eq!(
            stream_of_path("/cam01/sub/stream=0"),
            asked("cam01", StreamKind::Sub, StreamMode::Live)
        );
        assert_eq!(
            stream_of_path("/cam01/sub/replay"),
            asked("cam01", StreamKind::Sub, StreamMode::Replay)
        );
        assert_eq!(
            stream_of_path("/cam01/main/replay/stream=0"),
            asked("cam01", StreamKind::Main, StreamMode::Replay)
        );
        assert_eq!(
            stream_of_path("/cam01/main/replay?from=1795839261121715"),
            asked("cam01", StreamKind::Main, StreamMode::Replay)
        );
        for bad in [
            "/cam01/main?from=1795839261121715",
            "/cam01/main/replay/stream=0?from=1",
            "/cam01/main/replay?from=1&x=2",
            "/cam01/main/replay?from=",
            "/cam01/main/replay?to=1",
            "/cam01/other",
            "/cam01/main/x/y",
            "/cam01/main/replay/replay",
            "/cam01/main/stream=0/replay",
            "/",
            "/cam02/main/stream=0/../../../cam01/main/stream=0",
            "/cam01/main/stream=0x",
            "/%63am01/main",
            "/../main",
            "cam01/main",
        ] {
            assert!(stream_of_path(bad).is_err(), "{bad}");
        }
        assert_eq!(
            raw_path("rtsp://127.0.0.1:8556/cam01/main/stream=0"),
            "/cam01/main/stream=0"
        );
        assert_eq!(raw_path("rtsp://h"), "/");
    }
}
