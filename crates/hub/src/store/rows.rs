//! Rows of alarms, events, doors, audit records and layouts to contract types, each in one
//! place (`ingest` reads doors through it too).

use super::*;

pub(crate) const ALARM_SELECT: &str = "SELECT id, site_id, rule_id, event_id, door_id, title, priority, \
    procedure_text, cameras, state, raised_at, repeats, last_repeat_at, acknowledged_by, acknowledged_at, acknowledge_comment, \
    forwarded_to, closed_by, closed_at, close_comment FROM alarms";

pub(crate) fn alarm_from_row(r: &AnyRow) -> Result<Alarm> {
    let state: String = r.try_get("state")?;
    Ok(Alarm {
        id: r.try_get("id")?,
        site: r.try_get("site_id")?,
        rule: r.try_get("rule_id")?,
        event: r.try_get("event_id")?,
        door: r.try_get("door_id")?,
        title: r.try_get("title")?,
        priority: r.try_get("priority")?,
        procedure: r.try_get("procedure_text")?,
        cameras: json_column(r, "cameras")?,
        state: AlarmState::parse(&state)
            .ok_or_else(|| HubError::Internal(format!("stored alarm state `{state}`")))?,
        raised: rfc3339(r.try_get("raised_at")?),
        repeats: r.try_get("repeats")?,
        last_repeat: opt_time(r.try_get("last_repeat_at")?),
        acknowledged_by: r.try_get("acknowledged_by")?,
        acknowledged: opt_time(r.try_get("acknowledged_at")?),
        acknowledge_comment: r.try_get("acknowledge_comment")?,
        forwarded_to: r.try_get("forwarded_to")?,
        closed_by: r.try_get("closed_by")?,
        closed: opt_time(r.try_get("closed_at")?),
        close_comment: r.try_get("close_comment")?,
    })
}

pub(crate) fn event_from_row(r: &AnyRow) -> Result<Event> {
    Ok(Event {
        id: r.try_get("id")?,
        site: r.try_get("site_id")?,
        source: r.try_get("source")?,
        kind: r.try_get("kind")?,
        event_type: r.try_get("event_type")?,
        topic: r.try_get("topic")?,
        door: r.try_get("door_id")?,
        camera: r.try_get("camera_id")?,
        time: rfc3339(r.try_get("at")?),
        received: rfc3339(r.try_get("received_at")?),
        body: json_column(r, "body")?,
    })
}

pub(crate) fn door_from_row(site: &str, r: &AnyRow, links: &[(String, String)]) -> Result<Door> {
    let id: String = r.try_get("id")?;
    Ok(Door {
        cameras: links
            .iter()
            .filter(|(d, _)| *d == id)
            .map(|(_, c)| c.clone())
            .collect(),
        id,
        site: site.to_owned(),
        floor: r.try_get("floor_id")?,
        zone: r.try_get("zone_id")?,
        name: r.try_get("name")?,
        position: [r.try_get("x")?, r.try_get("y")?],
        door_state: r.try_get("door_state")?,
        lock_state: r.try_get("lock_state")?,
        alarm: r.try_get("alarm_state")?,
        mode: r.try_get("mode")?,
        state_time: opt_time(r.try_get("state_at")?),
    })
}

pub(super) const AUDIT_SELECT: &str =
    "SELECT seq, at, user_id, action, site_id, target, detail FROM audit";

pub(super) fn audit_from_row(r: &AnyRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.try_get("seq")?,
        time: rfc3339(r.try_get("at")?),
        user: r.try_get("user_id")?,
        action: r.try_get("action")?,
        site: r.try_get("site_id")?,
        target: r.try_get("target")?,
        detail: json_column(r, "detail")?,
    })
}

pub(crate) fn layout_from(row: &AnyRow) -> Result<SavedLayout> {
    let text: String = row.try_get("body")?;
    let mut body: LayoutBody = serde_json::from_str(&text)
        .map_err(|e| HubError::Database(format!("a stored layout is not readable: {e}")))?;
    // The columns are the truth for who sees it.
    body.shared_site = row.try_get("shared_site")?;
    body.name = row.try_get("name")?;
    Ok(SavedLayout {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        owner: row.try_get("username")?,
        updated_at: rfc3339(row.try_get("updated_at")?),
        body,
    })
}

/// A row of `bookmarks` joined with its maker's user name.
pub(crate) fn bookmark_from(row: &AnyRow) -> Result<Bookmark> {
    let end: Option<i64> = row.try_get("end_at")?;
    Ok(Bookmark {
        id: row.try_get("id")?,
        site: row.try_get("site_id")?,
        camera: row.try_get("camera_id")?,
        at: rfc3339(row.try_get("start_at")?),
        to: end.map(rfc3339),
        note: row.try_get("note")?,
        incident: row.try_get("incident_id")?,
        created_by: row.try_get("username")?,
        created: rfc3339(row.try_get("created_at")?),
    })
}
