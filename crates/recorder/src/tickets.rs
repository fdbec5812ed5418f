//! Stream tickets: who may open a camera's stream through the recorder, decided by the hub.
//! A ticket is the hub's signed [`contract::TicketClaims`] (`keys::sign_token`), given as the
//! RTSP Basic password; the recorder checks it with the hub's public key alone, so a viewer
//! costs no database lookup and no call to the hub. Pure: the time is passed in.

use crate::config::StreamKind;
use contract::{StreamName, TicketClaims};

/// Why a ticket was refused, in words for the hub's audit trail and the recorder's log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no ticket was given")]
    Missing,
    #[error("the ticket is not signed by the hub (forged or altered)")]
    Forged,
    #[error("the ticket is not a stream ticket")]
    Malformed,
    #[error("the ticket expired {0} s ago")]
    Expired(i64),
    #[error("the ticket is issued in the future (clocks differ by {0} s)")]
    NotYetValid(i64),
    #[error("the ticket is for {ticket}, not {asked}")]
    OtherStream { ticket: String, asked: String },
}

/// How far the hub's and the recorder's clocks may disagree.
pub const CLOCK_SKEW_MS: i64 = 30_000;

/// Checks `ticket` for opening `kind` of `camera` at `now_ms`; the claims when it may.
pub fn check(
    hub_key: &str,
    ticket: &str,
    camera: &str,
    kind: StreamKind,
    now_ms: i64,
) -> Result<TicketClaims, Refusal> {
    if ticket.is_empty() {
        return Err(Refusal::Missing);
    }
    let payload = keys::open_token(hub_key, ticket).ok_or(Refusal::Forged)?;
    let claims: TicketClaims = serde_json::from_slice(&payload).map_err(|_| Refusal::Malformed)?;
    if now_ms >= claims.expires_ms + CLOCK_SKEW_MS {
        return Err(Refusal::Expired((now_ms - claims.expires_ms) / 1000));
    }
    if claims.issued_ms > now_ms + CLOCK_SKEW_MS {
        return Err(Refusal::NotYetValid((claims.issued_ms - now_ms) / 1000));
    }
    let stream = match kind {
        StreamKind::Main => StreamName::Main,
        StreamKind::Sub => StreamName::Sub,
    };
    if claims.camera != camera || claims.stream != stream {
        return Err(Refusal::OtherStream {
            ticket: format!("{}/{}", claims.camera, claims.stream.as_str()),
            asked: format!("{camera}/{}", kind.as_str()),
        });
    }
    Ok(claims)
}

/// The camera and stream an RTSP request path names: `/<camera>/<main|sub>`, with an
/// optional control suffix (`/stream=0`) as SETUP requests carry.
pub fn stream_of_path(path: &str) -> Option<(String, StreamKind)> {
    let mut parts = path.trim_start_matches('/').split('/');
    let camera = parts.next().filter(|c| !c.is_empty())?;
    let kind = StreamKind::parse(parts.next()?)?;
    match parts.next() {
        None => Some((camera.to_owned(), kind)),
        Some(control) if control.starts_with("stream=") && parts.next().is_none() => {
            Some((camera.to_owned(), kind))
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keys::SigningKey;

    fn ticket(
        hub: &SigningKey,
        camera: &str,
        stream: StreamName,
        issued: i64,
        expires: i64,
    ) -> String {
        let claims = TicketClaims {
            id: "t-1".into(),
            user: "u-guard".into(),
            site: "demo".into(),
            camera: camera.into(),
            stream,
            issued_ms: issued,
            expires_ms: expires,
        };
        keys::sign_token(hub, &serde_json::to_vec(&claims).expect("json"))
    }

    #[test]
    fn a_ticket_opens_only_its_stream_until_it_expires() {
        let hub = SigningKey::ephemeral();
        let key = hub.public_hex();
        let now = 1_800_000_000_000;
        let good = ticket(&hub, "cam01", StreamName::Main, now, now + 120_000);
        let claims = check(&key, &good, "cam01", StreamKind::Main, now + 1000).expect("opens");
        assert_eq!(claims.user, "u-guard");
        assert_eq!(
            check(&key, &good, "cam01", StreamKind::Main, now + 200_000),
            Err(Refusal::Expired(80))
        );
        assert!(matches!(
            check(&key, &good, "cam02", StreamKind::Main, now),
            Err(Refusal::OtherStream { .. })
        ));
        assert!(matches!(
            check(&key, &good, "cam01", StreamKind::Sub, now),
            Err(Refusal::OtherStream { .. })
        ));
        let other_hub = SigningKey::ephemeral();
        let forged = ticket(&other_hub, "cam01", StreamName::Main, now, now + 120_000);
        assert_eq!(
            check(&key, &forged, "cam01", StreamKind::Main, now),
            Err(Refusal::Forged)
        );
        let future = ticket(
            &hub,
            "cam01",
            StreamName::Main,
            now + 600_000,
            now + 700_000,
        );
        assert!(matches!(
            check(&key, &future, "cam01", StreamKind::Main, now),
            Err(Refusal::NotYetValid(_))
        ));
        let not_claims = keys::sign_token(&hub, b"[1,2,3]");
        assert_eq!(
            check(&key, &not_claims, "cam01", StreamKind::Main, now),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            check(&key, "", "cam01", StreamKind::Main, now),
            Err(Refusal::Missing)
        );
    }

    #[test]
    fn request_paths_name_a_camera_stream() {
        assert_eq!(
            stream_of_path("/cam01/main"),
            Some(("cam01".into(), StreamKind::Main))
        );
        assert_eq!(
            stream_of_path("/cam01/sub/stream=0"),
            Some(("cam01".into(), StreamKind::Sub))
        );
        assert_eq!(stream_of_path("/cam01/other"), None);
        assert_eq!(stream_of_path("/cam01/main/x/y"), None);
        assert_eq!(stream_of_path("/"), None);
    }
}
