//! What the console may ask of the hub through the core, decided before anything is sent:
//! which paths it may read, which writes go through the durable outbox (they carry a
//! client-made id, so a repeat creates nothing twice) and which must reach the hub now or not
//! at all (door commands: unlocking a door an hour late is worse than not unlocking it).
//!
//! Pure: no IO, no session.

use crate::error::{AppError, Result};

/// How a write travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteRoute {
    /// Stored in the outbox first, delivered exactly once; `summary` is for people.
    Queued { summary: String },
    /// Sent now; refused with `offline` when the hub is away.
    Direct,
}

/// The first path segments the console may read below `/api/v1`.
const READABLE: &[&str] = &[
    "sites",
    "events",
    "alarms",
    "incidents",
    "audit",
    "users",
    "me",
    "rights",
    "attachments",
    "exports",
];

/// Splits `/a/b?x=1` into checked segments; refuses anything that could leave `/api/v1`.
fn segments(path: &str) -> Result<Vec<&str>> {
    let bad = || AppError::bad_input(format!("`{path}` is not a hub path the console may use"));
    let (route, _query) = path.split_once('?').unwrap_or((path, ""));
    let route = route.strip_prefix('/').ok_or_else(bad)?;
    if path.contains('#') || path.contains('\\') || path.chars().any(char::is_control) {
        return Err(bad());
    }
    let parts: Vec<&str> = route.split('/').collect();
    // Checked as the hub will read them: a URL parser takes `%2e%2e` for `..` (and the hub
    // decodes `%2f` inside a segment), so `/sites/%2e%2e/tickets` would leave the allow-list.
    let unsafe_segment = |part: &str| match percent_decoded(part) {
        Some(p) => {
            p.is_empty()
                || p == "."
                || p == ".."
                || p.contains([':', '/', '\\', '?', '#'])
                || p.chars().any(char::is_control)
        }
        None => true,
    };
    if parts.iter().any(|p| unsafe_segment(p)) {
        return Err(bad());
    }
    Ok(parts)
}

/// `segment` with its `%XX` escapes decoded; `None` when an escape is malformed or the result
/// is not UTF-8.
fn percent_decoded(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let hex = std::str::from_utf8(bytes.get(at + 1..at + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            at += 3;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Checks a read's path.
pub fn check_read(path: &str) -> Result<()> {
    let parts = segments(path)?;
    if READABLE.contains(&parts[0]) {
        Ok(())
    } else {
        Err(AppError::bad_input(format!(
            "the console may not read `{path}` from the hub"
        )))
    }
}

fn has_id(body: &serde_json::Value, field: &str) -> bool {
    body.get(field)
        .and_then(|v| v.as_str())
        .is_some_and(|s| !s.trim().is_empty() && s.len() <= 128)
}

/// Decides how a write travels, or refuses it. Queued writes must carry their client-made id.
pub fn classify(method: &str, path: &str, body: &serde_json::Value) -> Result<WriteRoute> {
    let parts = segments(path)?;
    if path.contains('?') {
        return Err(AppError::bad_input("a write takes no query string"));
    }
    let queued = |summary: String, id_field: &str| {
        if has_id(body, id_field) {
            Ok(WriteRoute::Queued { summary })
        } else {
            Err(AppError::bad_input(format!(
                "this write needs a client-made `{id_field}` so that it is never applied twice"
            )))
        }
    };
    match (method, parts.as_slice()) {
        (
            "POST",
            [
                "alarms",
                alarm,
                verb @ ("acknowledge" | "forward" | "close"),
            ],
        ) => {
            let what = match *verb {
                "acknowledge" => "Acknowledge",
                "forward" => "Forward",
                _ => "Close",
            };
            queued(format!("{what} alarm {alarm}"), "request_id")
        }
        ("POST", ["incidents"]) => {
            let title = body.get("title").and_then(|t| t.as_str()).unwrap_or("");
            queued(format!("New incident “{title}”"), "id")
        }
        ("PATCH", ["incidents", incident]) => {
            queued(format!("Change to incident {incident}"), "request_id")
        }
        ("POST", ["incidents", incident, "notes"]) => {
            queued(format!("Note on incident {incident}"), "id")
        }
        // An export needs the recorders now, and its id makes it once: now or not.
        ("POST", ["incidents", _, "exports"]) => {
            if has_id(body, "id") {
                Ok(WriteRoute::Direct)
            } else {
                Err(AppError::bad_input("an export needs a client-made `id`"))
            }
        }
        ("POST", ["sites", _, "bookmarks"]) => {
            let camera = body.get("camera").and_then(|c| c.as_str()).unwrap_or("");
            queued(format!("Bookmark on camera {camera}"), "id")
        }
        // Deleting twice is harmless, but a delete that waited would surprise: now or not.
        ("DELETE", ["sites", _, "bookmarks", _]) => Ok(WriteRoute::Direct),
        // Linking says where the bookmark belongs now: sent now or not, like a delete.
        ("PATCH", ["sites", _, "bookmarks", _]) => Ok(WriteRoute::Direct),
        // Accounts: their bodies hold passwords, which never rest in the outbox's file, and a
        // grant or a disable that arrived an hour late would surprise. Now or not.
        ("PUT", ["me", "password"])
        | ("PUT", ["users", _, "password" | "grants"])
        | ("POST", ["users", _, "disable" | "enable"])
        | ("DELETE", ["users", _, "sessions"])
        | ("DELETE", ["users", _, "sessions", _]) => Ok(WriteRoute::Direct),
        ("POST", ["users"]) => {
            if has_id(body, "id") {
                Ok(WriteRoute::Direct)
            } else {
                Err(AppError::bad_input("a new user needs a client-made `id`"))
            }
        }
        ("POST", ["sites", _, "doors", _, "commands"]) | ("POST", ["sites", _, "lockdown"]) => {
            if has_id(body, "request_id") {
                Ok(WriteRoute::Direct)
            } else {
                Err(AppError::bad_input("a door command needs a `request_id`"))
            }
        }
        _ => Err(AppError::bad_input(format!(
            "the console may not {method} `{path}` on the hub"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_stay_inside_the_api() {
        assert!(check_read("/alarms?state=new&limit=200").is_ok());
        assert!(check_read("/sites/demo-hq").is_ok());
        for bad in [
            "alarms",
            "/../health",
            "/sites/../../x",
            "/sites//x",
            "/https://evil/",
            "/auth/login",
            "/ingest/src",
            "/users/u1/sessions#x",
            // Escaped dots and slashes: a URL parser reads `%2e%2e` as `..`.
            "/sites/%2e%2e/recorders",
            "/sites/%2E%2e/%2e%2e/health",
            "/sites/.%2e/x",
            "/sites/%2e/x",
            "/sites/a%2fb",
            "/sites/a%5cb",
            "/sites/a%3ab",
            "/sites/%zz",
            "/sites/%e9",
            "/sites/a%00b",
        ] {
            assert!(check_read(bad).is_err(), "{bad}");
        }
        // An escaped character that is just a character is fine.
        assert!(check_read("/users/ann%40example.org").is_ok());
    }

    #[test]
    fn an_escaped_double_dot_is_what_a_url_parser_takes_for_one() {
        // Why the escapes are decoded before the check: the request would reach another path.
        let url =
            url::Url::parse("https://hub.example/api/v1/sites/%2e%2e/recorders").expect("a URL");
        assert_eq!(url.path(), "/api/v1/recorders");
    }

    #[test]
    fn operator_writes_are_queued_and_door_commands_are_not() {
        let ack = json!({"request_id": "r1", "comment": "seen"});
        assert_eq!(
            classify("POST", "/alarms/a1/acknowledge", &ack).expect("classified"),
            WriteRoute::Queued {
                summary: "Acknowledge alarm a1".into()
            }
        );
        let note = json!({"id": "n1", "text": "patrol sent"});
        assert!(matches!(
            classify("POST", "/incidents/i1/notes", &note).expect("classified"),
            WriteRoute::Queued { .. }
        ));
        assert!(matches!(
            classify("POST", "/incidents", &json!({"id": "i1", "title": "Dock"})).expect("classified"),
            WriteRoute::Queued { summary } if summary.contains("Dock")
        ));
        assert!(matches!(
            classify("PATCH", "/incidents/i1", &ack).expect("classified"),
            WriteRoute::Queued { .. }
        ));
        assert_eq!(
            classify(
                "POST",
                "/sites/s/doors/d/commands",
                &json!({"request_id": "r", "command": "momentary-unlock"})
            )
            .expect("classified"),
            WriteRoute::Direct
        );
        assert_eq!(
            classify("POST", "/sites/s/lockdown", &ack).expect("classified"),
            WriteRoute::Direct
        );
        // A bookmark made from the wall waits in the outbox like a note; a delete goes now.
        assert_eq!(
            classify(
                "POST",
                "/sites/s/bookmarks",
                &json!({"id": "b1", "camera": "cam01", "at": "2026-11-28T05:00:00Z", "note": ""})
            )
            .expect("classified"),
            WriteRoute::Queued {
                summary: "Bookmark on camera cam01".into()
            }
        );
        assert_eq!(
            classify("DELETE", "/sites/s/bookmarks/b1", &json!({})).expect("classified"),
            WriteRoute::Direct
        );
        assert_eq!(
            classify(
                "PATCH",
                "/sites/s/bookmarks/b1",
                &json!({"incident": "inc-1"})
            )
            .expect("classified"),
            WriteRoute::Direct
        );
    }

    #[test]
    fn writes_without_ids_or_outside_the_list_are_refused() {
        assert!(classify("POST", "/incidents/i1/notes", &json!({"text": "x"})).is_err());
        assert!(classify("POST", "/alarms/a1/acknowledge", &json!({})).is_err());
        assert!(classify("DELETE", "/incidents/i1", &json!({})).is_err());
        assert!(classify("PUT", "/settings", &json!({})).is_err());
        assert!(classify("POST", "/users", &json!({"username": "x"})).is_err());
        assert!(classify("PUT", "/me", &json!({})).is_err());
        assert!(classify("POST", "/users/u1/grants", &json!({})).is_err());
        assert!(classify("POST", "/incidents?x=1", &json!({"id": "x"})).is_err());
        assert!(classify("POST", "/sites/s/doors/d/commands", &json!({})).is_err());
        assert!(classify("POST", "/sites/s/bookmarks", &json!({"camera": "cam01"})).is_err());
        assert!(classify("POST", "/incidents/i1/exports", &json!({"cameras": []})).is_err());
        assert!(matches!(
            classify("POST", "/incidents/i1/exports", &json!({"id": "e1"})),
            Ok(WriteRoute::Direct)
        ));
        assert!(check_read("/exports/e1/check").is_ok());
    }

    #[test]
    fn account_writes_are_sent_now_never_queued() {
        // A password in the outbox would rest on disk until delivered.
        for (method, path, body) in [
            (
                "PUT",
                "/me/password",
                json!({"current": "a", "password": "b"}),
            ),
            ("PUT", "/users/u1/password", json!({"password": "b"})),
            ("PUT", "/users/u1/grants", json!({"grants": []})),
            ("POST", "/users/u1/disable", json!({})),
            ("POST", "/users/u1/enable", json!({})),
            ("DELETE", "/users/u1/sessions", json!(null)),
            ("DELETE", "/users/u1/sessions/s1", json!(null)),
            ("POST", "/users", json!({"id": "x", "password": "b"})),
        ] {
            assert_eq!(
                classify(method, path, &body).ok(),
                Some(WriteRoute::Direct),
                "{method} {path}"
            );
        }
    }
}
