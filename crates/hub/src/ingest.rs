//! Access-control events in: parsed and checked at the edge, then written by one task that
//! commits whatever has queued up in a single transaction (group commit), so a burst costs one
//! disk flush rather than one per event. Each event updates its door's live state and raises
//! the alarms its site's rules ask for, in the same transaction.
//!
//! Sources: a signed HTTP webhook (see [`check_signed_headers`]) and MQTT ([`run_mqtt`]), whose
//! messages are signed by their source the same way ([`events::MqttMessage`]). Both are
//! idempotent by the event's own id, which is the source's own (unique per site and source, so
//! one source cannot take another's ids): a replay is answered `duplicate` and changes nothing; the same id with other content is refused and written to
//! the audit trail. An event dated more than [`MAX_AHEAD_MS`] ahead of the hub's clock is
//! refused (it would hold its door's state until then). While an alarm is new (not yet acknowledged), its rule firing
//! again for the same door from the same source counts a repeat on it instead of raising
//! another; once acknowledged, the next raises a new alarm, so a guard hears of it.

use crate::db::WriteTx;
use crate::model::{
    Alarm, AlarmRule, AlarmState, ChangeBody, Event, IngestEvent, IngestStatus, Outcome,
};
use crate::store::{ALARM_SELECT, Hub, alarm_from_row, door_from_row, rules_on};
use crate::{HubError, Result, check_id, check_text, clip, new_id, parse_time, rfc3339};
use serde_json::{Value, json};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

fn rejected(id: &str, reason: String) -> Outcome {
    Outcome {
        id: id.to_owned(),
        status: IngestStatus::Rejected,
        reason: Some(reason),
    }
}

/// Largest event the hub keeps, as JSON.
const MAX_EVENT_BYTES: usize = 16 * 1024;
/// Most events in one request or message.
pub const MAX_BATCH: usize = 1000;
/// How far ahead of the hub's clock an event may be dated: controllers' clocks drift, but a
/// door's state follows the newest report, and one from next year must not freeze it.
pub const MAX_AHEAD_MS: i64 = 5 * 60 * 1000;
/// How many queued requests one transaction takes at most.
const GROUP: usize = 64;

/// The event's kind for filters.
pub fn kind_of(event_type: &str) -> &'static str {
    match event_type {
        "AccessGranted" => "access-granted",
        "AccessDenied" => "access-denied",
        "DoorPhysicalState" | "LockPhysicalState" | "DoorMode" => "door-state",
        "DoorAlarm" => "door-alarm",
        t if t.starts_with("Sensor") => "sensor",
        _ => "system",
    }
}

/// Parses a request body (one event or an array) into events, each checked on its own.
pub fn parse_batch(body: &Value, site_scope: Option<&str>) -> Result<Vec<Checked>> {
    let items: Vec<&Value> = match body {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![body],
        _ => {
            return Err(HubError::BadRequest(
                "expected an event object or an array of events".into(),
            ));
        }
    };
    if items.len() > MAX_BATCH {
        return Err(HubError::BadRequest(format!(
            "{} events in one batch; at most {MAX_BATCH}",
            items.len()
        )));
    }
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(n, raw)| check_event(raw, site_scope).map_err(|e| (n, raw, e)))
        .map(|r| match r {
            Ok(checked) => checked,
            Err((n, raw, e)) => Checked::Invalid(rejected(
                raw.get("id")
                    .and_then(Value::as_str)
                    .map(clip)
                    .unwrap_or_else(|| format!("#{n}"))
                    .as_str(),
                e.to_string(),
            )),
        })
        .collect())
}

/// An event after the edge's checks.
#[derive(Debug, Clone)]
pub enum Checked {
    Valid {
        event: IngestEvent,
        at: i64,
        raw: String,
    },
    Invalid(Outcome),
}

fn check_event(raw: &Value, site_scope: Option<&str>) -> Result<Checked> {
    let text = raw.to_string();
    if text.len() > MAX_EVENT_BYTES {
        return Err(HubError::BadRequest(format!(
            "event is {} bytes; at most {MAX_EVENT_BYTES}",
            text.len()
        )));
    }
    if text.contains("\\u0000") {
        return Err(HubError::BadRequest(
            "event contains a NUL character".into(),
        ));
    }
    let event: IngestEvent = serde_json::from_value(raw.clone())
        .map_err(|e| HubError::BadRequest(format!("not an event: {e}")))?;
    check_id("id", &event.id)?;
    check_id("site", &event.site)?;
    for (what, value) in [("door", &event.door), ("camera", &event.camera)] {
        if let Some(value) = value {
            check_id(what, value)?;
        }
    }
    check_text("type", &event.event_type, 64)?;
    if event.event_type.is_empty() {
        return Err(HubError::BadRequest("event has an empty type".into()));
    }
    for value in [&event.topic, &event.state].into_iter().flatten() {
        check_text("topic/state", value, 256)?;
    }
    if let Some(scope) = site_scope
        && scope != event.site
    {
        return Err(HubError::Forbidden(format!(
            "this source may only send events for site `{scope}`"
        )));
    }
    let at = parse_time(&event.time)?;
    Ok(Checked::Valid {
        event,
        at,
        raw: text,
    })
}

/// Checks a webhook's signed headers before its body is read (see the `events` crate for the
/// scheme): a fresh timestamp and a well-formed signature, answered as bytes for
/// [`verify_signature`].
pub fn check_signed_headers(timestamp: &str, signature: &str, now_ms: i64) -> Result<Vec<u8>> {
    events::check_headers(timestamp, signature, now_ms / 1000).map_err(signature_refused)
}

/// Checks that the `expected` signature [`check_signed_headers`] answered is `body`'s.
pub fn verify_signature(
    secret: &[u8],
    timestamp: &str,
    expected: &[u8],
    body: &[u8],
) -> Result<()> {
    events::verify_body(secret, timestamp, expected, body).map_err(signature_refused)
}

fn signature_refused(why: &str) -> HubError {
    HubError::Forbidden(format!("webhook signature: {why}"))
}

struct Job {
    source: String,
    events: Vec<Checked>,
    reply: oneshot::Sender<Result<Vec<Outcome>>>,
}

/// The handle through which sources hand events to the writer task.
#[derive(Debug, Clone)]
pub struct Ingest {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("events", &self.events.len())
            .finish()
    }
}

impl Ingest {
    /// Starts the writer task.
    pub fn start(hub: Arc<Hub>) -> Self {
        // Bounded: when the database falls behind, senders wait (backpressure), nothing drops.
        let (jobs, mut queue) = mpsc::channel::<Job>(1024);
        tokio::spawn(async move {
            while let Some(first) = queue.recv().await {
                let mut batch = vec![first];
                while batch.len() < GROUP {
                    match queue.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                match write_batch(&hub, &batch).await {
                    Ok(outcomes) => {
                        for (job, outcome) in batch.into_iter().zip(outcomes) {
                            let _ = job.reply.send(Ok(outcome));
                        }
                    }
                    Err(error) => {
                        tracing::error!(%error, "cannot store events; senders will retry");
                        for job in batch {
                            let _ = job.reply.send(Err(HubError::Database(format!(
                                "events not stored: {error}"
                            ))));
                        }
                    }
                }
            }
        });
        Self { jobs }
    }

    /// Stores `events` from `source`; answers once they are committed.
    pub async fn submit(&self, source: &str, events: Vec<Checked>) -> Result<Vec<Outcome>> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                source: source.to_owned(),
                events,
                reply,
            })
            .await
            .map_err(|_| HubError::Internal("event writer stopped".into()))?;
        answer
            .await
            .map_err(|_| HubError::Internal("event writer stopped".into()))?
    }
}

struct SiteFacts {
    rules: Vec<AlarmRule>,
    doors: HashMap<String, (String, Vec<String>)>,
}

async fn site_facts(tx: &mut WriteTx, site: &str) -> Result<Option<SiteFacts>> {
    let exists = sqlx::query("SELECT id FROM sites WHERE id = $1")
        .bind(site)
        .fetch_optional(tx.conn())
        .await?;
    if exists.is_none() {
        return Ok(None);
    }
    let rules = rules_on(tx.conn(), site).await?;
    let mut doors: HashMap<String, (String, Vec<String>)> = HashMap::new();
    for row in sqlx::query("SELECT id, name FROM doors WHERE site_id = $1")
        .bind(site)
        .fetch_all(tx.conn())
        .await?
    {
        doors.insert(row.try_get("id")?, (row.try_get("name")?, Vec::new()));
    }
    for row in sqlx::query(
        "SELECT door_id, camera_id FROM door_cameras WHERE site_id = $1 ORDER BY camera_id",
    )
    .bind(site)
    .fetch_all(tx.conn())
    .await?
    {
        let door: String = row.try_get("door_id")?;
        if let Some(entry) = doors.get_mut(&door) {
            entry.1.push(row.try_get("camera_id")?);
        }
    }
    Ok(Some(SiteFacts { rules, doors }))
}

async fn write_batch(hub: &Hub, jobs: &[Job]) -> Result<Vec<Vec<Outcome>>> {
    let now = hub.now();
    let mut tx = hub.db.write().await?;
    let mut facts: HashMap<String, Option<SiteFacts>> = HashMap::new();
    let mut all = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut outcomes = Vec::with_capacity(job.events.len());
        for checked in &job.events {
            let (event, at, raw) = match checked {
                Checked::Invalid(outcome) => {
                    outcomes.push(outcome.clone());
                    continue;
                }
                Checked::Valid { event, at, raw } => (event, *at, raw),
            };
            if !facts.contains_key(&event.site) {
                let loaded = site_facts(&mut tx, &event.site).await?;
                facts.insert(event.site.clone(), loaded);
            }
            let Some(Some(site)) = facts.get(&event.site) else {
                outcomes.push(rejected(&event.id, format!("no site `{}`", event.site)));
                continue;
            };
            if let Some(door) = &event.door
                && !site.doors.contains_key(door)
            {
                outcomes.push(rejected(
                    &event.id,
                    format!("no door `{door}` on site `{}`", event.site),
                ));
                continue;
            }
            if at - now > MAX_AHEAD_MS {
                outcomes.push(rejected(
                    &event.id,
                    format!(
                        "event `{}` is dated {} s in the future (at most {} s ahead of the \
                         hub's clock): check the source's clock",
                        event.id,
                        (at - now) / 1000,
                        MAX_AHEAD_MS / 1000
                    ),
                ));
                continue;
            }
            let inserted = sqlx::query(
                "INSERT INTO events (site_id, source, id, kind, event_type, topic, door_id, camera_id, at, received_at, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (site_id, source, id) DO NOTHING",
            )
            .bind(&event.site)
            .bind(&job.source)
            .bind(&event.id)
            .bind(kind_of(&event.event_type))
            .bind(&event.event_type)
            .bind(&event.topic)
            .bind(&event.door)
            .bind(&event.camera)
            .bind(at)
            .bind(now)
            .bind(raw)
            .execute(tx.conn())
            .await?
            .rows_affected();
            if inserted == 0 {
                outcomes.push(repeated(&mut tx, now, &job.source, event, raw).await?);
                continue;
            }
            // The change carries the event as stored, built from the values just written.
            let stored = Event {
                id: event.id.clone(),
                site: event.site.clone(),
                source: job.source.clone(),
                kind: kind_of(&event.event_type).to_owned(),
                event_type: event.event_type.clone(),
                topic: event.topic.clone(),
                door: event.door.clone(),
                camera: event.camera.clone(),
                time: rfc3339(at),
                received: rfc3339(now),
                body: serde_json::from_str(raw)
                    .map_err(|e| HubError::Internal(format!("event body: {e}")))?,
            };
            tx.change(now, Some(&event.site), ChangeBody::Event(stored))
                .await?;
            if let (Some(door), Some(state)) = (&event.door, &event.state) {
                update_door(
                    &mut tx,
                    now,
                    &event.site,
                    door,
                    &event.event_type,
                    state,
                    at,
                )
                .await?;
            }
            for rule in site.rules.iter().filter(|r| {
                r.event_type == event.event_type
                    && (r.state.is_none() || r.state.as_deref() == event.state.as_deref())
            }) {
                let (door_name, mut cameras) = event
                    .door
                    .as_ref()
                    .and_then(|d| site.doors.get(d))
                    .cloned()
                    .unwrap_or_else(|| (String::new(), Vec::new()));
                // An event about a camera (a recorder's "offline") shows that camera.
                if event.door.is_none()
                    && let Some(camera) = &event.camera
                {
                    cameras = vec![camera.clone()];
                }
                // While the door's alarm from this rule and source is new (flashing, not yet
                // acknowledged), the rule firing again counts on it: a door that keeps
                // toggling must not bury the list in copies. Once a guard acknowledged it, the
                // next one is a new alarm that alerts again; another source's alarm never
                // takes this one's repeats.
                if let Some(door) = &event.door
                    && let Some(open) = sqlx::query(
                        "SELECT id FROM alarms WHERE site_id = $1 AND door_id = $2 AND rule_id = $3 \
                         AND event_source = $4 AND state = 'new' ORDER BY raised_at DESC, id DESC LIMIT 1",
                    )
                    .bind(&event.site)
                    .bind(door)
                    .bind(&rule.id)
                    .bind(&job.source)
                    .fetch_optional(tx.conn())
                    .await?
                {
                    let open: String = open.try_get("id")?;
                    sqlx::query(
                        "UPDATE alarms SET repeats = repeats + 1, last_repeat_at = $1 WHERE id = $2",
                    )
                    .bind(now)
                    .bind(&open)
                    .execute(tx.conn())
                    .await?;
                    // Each repeat is kept: its recorders keep the video around it too.
                    sqlx::query(
                        "INSERT INTO alarm_repeats (alarm_id, event_source, event_id, at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&open)
                    .bind(&job.source)
                    .bind(&event.id)
                    .bind(now)
                    .execute(tx.conn())
                    .await?;
                    let alarm = sqlx::query(&format!("{ALARM_SELECT} WHERE id = $1"))
                        .bind(&open)
                        .fetch_one(tx.conn())
                        .await?;
                    tx.change(
                        now,
                        Some(&event.site),
                        ChangeBody::Alarm(alarm_from_row(&alarm)?),
                    )
                    .await?;
                    continue;
                }
                let id = new_id("alarm");
                let title = match (door_name.is_empty(), &event.camera) {
                    (false, _) => format!("{}: {door_name}", rule.name),
                    (true, Some(camera)) => format!("{}: {camera}", rule.name),
                    (true, None) => rule.name.clone(),
                };
                sqlx::query(
                    "INSERT INTO alarms (id, site_id, rule_id, event_id, event_source, door_id, title, priority, \
                     procedure_text, cameras, state, raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'new', $11)",
                )
                .bind(&id)
                .bind(&event.site)
                .bind(&rule.id)
                .bind(&event.id)
                .bind(&job.source)
                .bind(&event.door)
                .bind(&title)
                .bind(rule.priority)
                .bind(&rule.procedure)
                .bind(json!(cameras).to_string())
                .bind(now)
                .execute(tx.conn())
                .await?;
                let alarm = Alarm {
                    id,
                    site: event.site.clone(),
                    rule: rule.id.clone(),
                    event: event.id.clone(),
                    door: event.door.clone(),
                    title,
                    priority: rule.priority,
                    procedure: rule.procedure.clone(),
                    cameras,
                    state: AlarmState::New,
                    raised: rfc3339(now),
                    repeats: 0,
                    last_repeat: None,
                    acknowledged_by: None,
                    acknowledged: None,
                    acknowledge_comment: None,
                    forwarded_to: None,
                    closed_by: None,
                    closed: None,
                    close_comment: None,
                };
                tx.change(now, Some(&event.site), ChangeBody::Alarm(alarm))
                    .await?;
            }
            outcomes.push(Outcome {
                id: event.id.clone(),
                status: IngestStatus::Accepted,
                reason: None,
            });
        }
        all.push(outcomes);
    }
    tx.commit().await?;
    Ok(all)
}

/// The answer to an event whose source already sent its id: `duplicate` when it is the same
/// event (a retry), else refused and written to the audit trail: a source reusing an id for
/// other content is broken or forged, and IT must hear of it.
async fn repeated(
    tx: &mut WriteTx,
    now: i64,
    source: &str,
    event: &IngestEvent,
    raw: &str,
) -> Result<Outcome> {
    let stored = sqlx::query(
        "SELECT event_type, body FROM events WHERE site_id = $1 AND source = $2 AND id = $3",
    )
    .bind(&event.site)
    .bind(source)
    .bind(&event.id)
    .fetch_one(tx.conn())
    .await?;
    let body: String = stored.try_get("body")?;
    if body == raw {
        return Ok(Outcome {
            id: event.id.clone(),
            status: IngestStatus::Duplicate,
            reason: None,
        });
    }
    let stored_type: String = stored.try_get("event_type")?;
    tracing::warn!(
        source,
        site = event.site,
        id = event.id,
        "an event id sent again with different content was refused"
    );
    tx.audit(crate::db::AuditEntry {
        at: now,
        user: None,
        action: "ingest.conflict",
        site: Some(&event.site),
        target: Some(&event.id),
        detail: json!({
            "source": source,
            "stored_type": stored_type,
            "sent_type": event.event_type,
        }),
    })
    .await?;
    Ok(rejected(
        &event.id,
        format!(
            "event id `{}` was already used by this source for a different event \
             ({stored_type}); refused and reported",
            event.id
        ),
    ))
}

async fn update_door(
    tx: &mut WriteTx,
    now: i64,
    site: &str,
    door: &str,
    event_type: &str,
    state: &str,
    at: i64,
) -> Result<()> {
    let column = match event_type {
        "DoorPhysicalState" => "door_state",
        "LockPhysicalState" => "lock_state",
        "DoorAlarm" => "alarm_state",
        "DoorMode" => "mode",
        _ => return Ok(()),
    };
    // Older news of an attribute than what the door already shows of it does not overwrite
    // it; each attribute has its own time, and `state_at` is the newest of them. A time
    // further ahead than an event may be (left by a hub that took future events) is no news.
    let updated = sqlx::query(&format!(
        "UPDATE doors SET {column} = $1, {column}_at = $2, \
         state_at = CASE WHEN state_at IS NULL OR state_at < $2 OR state_at > $5 THEN $2 \
         ELSE state_at END \
         WHERE site_id = $3 AND id = $4 \
         AND ({column}_at IS NULL OR {column}_at <= $2 OR {column}_at > $5)"
    ))
    .bind(state)
    .bind(at)
    .bind(site)
    .bind(door)
    .bind(now + MAX_AHEAD_MS)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if updated == 0 {
        return Ok(());
    }
    let links: Vec<(String, String)> = sqlx::query(
        "SELECT door_id, camera_id FROM door_cameras WHERE site_id = $1 AND door_id = $2",
    )
    .bind(site)
    .bind(door)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| Ok((r.try_get("door_id")?, r.try_get("camera_id")?)))
    .collect::<Result<_>>()?;
    let row = sqlx::query(
        "SELECT id, floor_id, zone_id, name, x, y, door_state, lock_state, alarm_state, mode, state_at \
         FROM doors WHERE site_id = $1 AND id = $2",
    )
    .bind(site)
    .bind(door)
    .fetch_one(tx.conn())
    .await?;
    tx.change(
        now,
        Some(site),
        ChangeBody::Door(door_from_row(site, &row, &links)?),
    )
    .await?;
    Ok(())
}

/// The site and secret of the event source `id`; one the hub does not know is refused, not
/// "not found" (a sender learns nothing it could not guess).
pub async fn known_source(hub: &Hub, id: &str) -> Result<(String, Vec<u8>)> {
    hub.source(id).await.map_err(|e| match e {
        HubError::NotFound(_) => HubError::Forbidden(format!("unknown source `{id}`")),
        other => other,
    })
}

/// One MQTT message from the topic of a site: signed by an event source of that site, its events
/// checked and written like a webhook's. An error says why the whole message was refused.
async fn mqtt_message(
    hub: &Hub,
    ingest: &Ingest,
    topic: &str,
    payload: &[u8],
) -> Result<Vec<Outcome>> {
    let site = events::site_of_topic(topic)
        .ok_or_else(|| HubError::BadRequest(format!("unexpected topic `{}`", clip(topic))))?;
    if payload.len() > mqtt::MAX_PACKET {
        return Err(HubError::PayloadTooLarge(format!(
            "a message of {} bytes; at most {}",
            payload.len(),
            mqtt::MAX_PACKET
        )));
    }
    let message = events::MqttMessage::parse(payload).map_err(HubError::Forbidden)?;
    check_id("source", &message.source).map_err(|_| {
        HubError::Forbidden(format!("`{}` is not a source id", clip(&message.source)))
    })?;
    let (source_site, secret) = known_source(hub, &message.source).await?;
    if source_site != site {
        return Err(HubError::Forbidden(format!(
            "source `{}` sends for site `{source_site}`, not `{}`",
            message.source,
            clip(site)
        )));
    }
    message
        .verify(&secret, topic)
        .map_err(|why| HubError::Forbidden(format!("signature: {why}")))?;
    let body: Value = serde_json::from_str(&message.body)
        .map_err(|e| HubError::BadRequest(format!("body is not JSON: {e}")))?;
    let batch = parse_batch(&body, Some(site))?;
    ingest
        .submit(&format!("mqtt:{}", message.source), batch)
        .await
}

/// Subscribes to every site's events topic at the broker (`options`, from `mqtt::Settings`:
/// TLS, credentials and a persistent session under a stable client id, so that what is
/// published while the hub is away waits for it) and ingests what arrives, until the task is
/// stopped. A message is acknowledged only after its events are committed (or it is refused
/// for good), and the connection is re-established with backoff when it drops.
pub async fn run_mqtt(
    hub: Arc<Hub>,
    ingest: Ingest,
    url: String,
    mut options: rumqttc::MqttOptions,
) -> Result<()> {
    use rumqttc::{AsyncClient, Event, Packet, QoS, SubscribeReasonCode};
    options.set_manual_acks(true);
    let mut backoff = Duration::from_millis(200);
    let mut store_backoff = Duration::from_millis(200);
    loop {
        // A connection of the hub's session. It is made again when a message could not be
        // stored: the broker delivers what was not acknowledged again only to a new connection,
        // and holds back the rest while too many wait for an acknowledgement.
        let (client, mut connection) = AsyncClient::new(options.clone(), 256);
        loop {
            match connection.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    backoff = Duration::from_millis(200);
                    tracing::info!(%url, "MQTT connected");
                    client
                        .subscribe(events::MQTT_ALL_SITES, QoS::AtLeastOnce)
                        .await
                        .map_err(|e| HubError::Upstream(format!("MQTT subscribe: {e}")))?;
                }
                Ok(Event::Incoming(Packet::SubAck(ack)))
                    if ack.return_codes.contains(&SubscribeReasonCode::Failure) =>
                {
                    tracing::error!(
                        %url,
                        topic = events::MQTT_ALL_SITES,
                        "the broker refused the hub's subscription: no events will arrive (its ACL must let the hub read the sites' events)"
                    );
                }
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    let topic = clip(&publish.topic);
                    match mqtt_message(&hub, &ingest, &publish.topic, &publish.payload).await {
                        Ok(outcomes) => {
                            store_backoff = Duration::from_millis(200);
                            for rejected in outcomes
                                .iter()
                                .filter(|o| o.status == IngestStatus::Rejected)
                            {
                                tracing::warn!(id = %rejected.id, reason = ?rejected.reason, "MQTT event rejected");
                            }
                        }
                        Err(HubError::Database(error)) => {
                            // Not acknowledged: it comes again on the next connection.
                            tracing::error!(
                                %error,
                                retry_in = ?store_backoff,
                                "MQTT events not stored; connecting again to have them again"
                            );
                            break;
                        }
                        Err(error) => {
                            tracing::warn!(?topic, %error, "MQTT message refused")
                        }
                    }
                    if let Err(e) = client.ack(&publish).await {
                        tracing::warn!(error = %e, "MQTT ack failed");
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%url, %error, "MQTT connection lost; reconnecting");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
        drop((client, connection));
        tokio::time::sleep(store_backoff).await;
        store_backoff = (store_backoff * 2).min(Duration::from_secs(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_reject_bad_events_one_by_one() {
        let body = json!([
            {"id": "a", "time": "2026-11-26T10:00:00Z", "site": "s", "type": "AccessGranted"},
            {"id": "b", "time": "yesterday", "site": "s", "type": "AccessGranted"},
            {"id": "c\u{0}", "time": "2026-11-26T10:00:00Z", "site": "s", "type": "X"},
            {"id": "d", "time": "2026-11-26T10:00:00Z", "site": "other", "type": "X"},
            42
        ]);
        let parsed = parse_batch(&body, Some("s")).expect("batch");
        assert!(matches!(parsed[0], Checked::Valid { .. }));
        for bad in &parsed[1..] {
            assert!(
                matches!(bad, Checked::Invalid(o) if o.status == IngestStatus::Rejected),
                "{bad:?}"
            );
        }
        assert!(parse_batch(&json!("text"), None).is_err());
    }

    #[test]
    fn kinds_follow_onvif_types() {
        assert_eq!(kind_of("AccessDenied"), "access-denied");
        assert_eq!(kind_of("DoorAlarm"), "door-alarm");
        assert_eq!(kind_of("LockPhysicalState"), "door-state");
        assert_eq!(kind_of("SensorMotion"), "sensor");
        assert_eq!(kind_of("Whatever"), "system");
    }
}
