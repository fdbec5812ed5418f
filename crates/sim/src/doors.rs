//! Simulated door controllers: doors that people badge through, that get forced or held open,
//! and that obey operator commands, reported as ONVIF Profile C access-control and door events.
//!
//! The simulation is a pure state machine: time and randomness are passed in, and it returns
//! the events each step produces. The caller decides where events go (a JSON-lines file or
//! stdout until the hub exists).

use crate::SimError;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime};

/// ONVIF `tns1:Door/State/DoorPhysicalState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DoorPhysicalState {
    Closed,
    Open,
}

/// ONVIF `tns1:Door/State/LockPhysicalState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockPhysicalState {
    Locked,
    Unlocked,
}

/// ONVIF `tns1:Door/State/DoorAlarm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DoorAlarm {
    Normal,
    DoorForcedOpen,
    DoorOpenTooLong,
}

/// ONVIF `tns1:Door/State/DoorMode` (the subset a simulated controller uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DoorMode {
    Locked,
    /// Momentarily unlocked for one passage.
    Accessed,
    LockedDown,
}

/// What happened, in ONVIF Profile C terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum DoorEventKind {
    AccessGranted { credential: String, holder: String },
    AccessDenied { credential: String, reason: String },
    DoorPhysicalState { state: DoorPhysicalState },
    LockPhysicalState { state: LockPhysicalState },
    DoorAlarm { state: DoorAlarm },
    DoorMode { state: DoorMode },
}

impl DoorEventKind {
    /// The ONVIF event topic.
    pub fn topic(&self) -> &'static str {
        match self {
            DoorEventKind::AccessGranted { .. } => "tns1:AccessControl/AccessGranted/Credential",
            DoorEventKind::AccessDenied { .. } => "tns1:AccessControl/Denied/Credential",
            DoorEventKind::DoorPhysicalState { .. } => "tns1:Door/State/DoorPhysicalState",
            DoorEventKind::LockPhysicalState { .. } => "tns1:Door/State/LockPhysicalState",
            DoorEventKind::DoorAlarm { .. } => "tns1:Door/State/DoorAlarm",
            DoorEventKind::DoorMode { .. } => "tns1:Door/State/DoorMode",
        }
    }
}

/// One event from a door controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorEvent {
    /// Unique across restarts of the simulator: `<site>:<boot>:<sequence>`.
    pub id: String,
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    pub site: String,
    pub door: String,
    pub topic: String,
    #[serde(flatten)]
    pub kind: DoorEventKind,
}

/// An operator command (or an injected fault) for the doors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum DoorCommand {
    /// Unlock for one passage (ONVIF AccessDoor).
    MomentaryUnlock { door: String },
    /// Lock every door and deny all access until lifted (ONVIF LockDownDoor).
    Lockdown { on: bool },
    /// Simulate someone forcing the door.
    ForceOpen { door: String },
    /// Simulate a badged door propped open past its limit.
    HoldOpen { door: String },
}

/// The live state of one door.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoorStatus {
    pub id: String,
    pub door: DoorPhysicalState,
    pub lock: LockPhysicalState,
    pub alarm: DoorAlarm,
    pub mode: DoorMode,
}

/// How the simulated doors behave.
#[derive(Debug, Clone)]
pub struct DoorSettings {
    /// Badge swipes per minute across the whole site (0 for none).
    pub swipes_per_minute: f64,
    /// Share of swipes that are denied.
    pub denied_share: f64,
    /// Share of swipes after which the door is propped open too long.
    pub held_open_share: f64,
    /// Forced-open incidents per hour across the site.
    pub forced_per_hour: f64,
    /// How long a door may stay open after a granted access.
    pub open_limit: Duration,
}

impl Default for DoorSettings {
    fn default() -> Self {
        Self {
            swipes_per_minute: 12.0,
            denied_share: 0.12,
            held_open_share: 0.03,
            forced_per_hour: 2.0,
            open_limit: Duration::from_secs(15),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Open,
    Close,
    Lock,
    TooLong,
    ForcedClose,
}

const HOLDERS: &[(&str, &str)] = &[
    ("card-1001", "A. Jensen"),
    ("card-1002", "B. Okafor"),
    ("card-1003", "C. Novak"),
    ("card-1004", "D. Silva"),
    ("card-1005", "E. Tanaka"),
    ("card-1006", "F. Müller"),
    ("card-1007", "G. Haddad"),
    ("card-1008", "H. Kowalski"),
];

/// A site's door controllers.
#[derive(Debug)]
pub struct DoorControllers {
    site: String,
    boot: u64,
    sequence: u64,
    settings: DoorSettings,
    doors: Vec<DoorStatus>,
    /// Due steps, unordered (a few at most).
    pending: Vec<(SystemTime, usize, Step)>,
    next_swipe: Option<SystemTime>,
    next_forced: Option<SystemTime>,
    lockdown: bool,
    rng: StdRng,
}

impl DoorControllers {
    /// Controllers for `doors` of `site`, all closed and locked. `boot` makes event ids unique
    /// across runs (use the start time in milliseconds); `seed` fixes the randomness.
    pub fn new(site: &str, doors: &[String], settings: DoorSettings, boot: u64, seed: u64) -> Self {
        Self {
            site: site.to_owned(),
            boot,
            sequence: 0,
            settings,
            doors: doors
                .iter()
                .map(|id| DoorStatus {
                    id: id.clone(),
                    door: DoorPhysicalState::Closed,
                    lock: LockPhysicalState::Locked,
                    alarm: DoorAlarm::Normal,
                    mode: DoorMode::Locked,
                })
                .collect(),
            pending: Vec::new(),
            next_swipe: None,
            next_forced: None,
            lockdown: false,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Every door's live state.
    pub fn status(&self) -> &[DoorStatus] {
        &self.doors
    }

    /// Advances the simulation to `now`, returning the events that happened.
    pub fn tick(&mut self, now: SystemTime) -> Vec<DoorEvent> {
        let mut events = Vec::new();
        self.pending.sort_by_key(|(at, _, _)| *at);
        while let Some(&(at, door, step)) = self.pending.first() {
            if at > now {
                break;
            }
            self.pending.remove(0);
            self.run_step(door, step, at, &mut events);
        }
        if self.doors.is_empty() {
            return events;
        }
        let swipe_every = per_minute_interval(self.settings.swipes_per_minute);
        if let Some(every) = swipe_every {
            let due = *self.next_swipe.get_or_insert_with(|| now + every);
            if due <= now {
                let jitter = self.rng.random_range(0.5..1.5);
                self.next_swipe = Some(now + every.mul_f64(jitter));
                let door = self.rng.random_range(0..self.doors.len());
                self.swipe(door, now, &mut events);
            }
        }
        if let Some(every) = per_minute_interval(self.settings.forced_per_hour / 60.0) {
            let due = *self.next_forced.get_or_insert_with(|| now + every);
            if due <= now {
                let jitter = self.rng.random_range(0.5..1.5);
                self.next_forced = Some(now + every.mul_f64(jitter));
                let door = self.rng.random_range(0..self.doors.len());
                self.force_open(door, now, &mut events);
            }
        }
        events
    }

    /// Carries out a command at `now`.
    pub fn command(
        &mut self,
        command: &DoorCommand,
        now: SystemTime,
    ) -> Result<Vec<DoorEvent>, SimError> {
        let mut events = Vec::new();
        match command {
            DoorCommand::MomentaryUnlock { door } => {
                let door = self.index(door)?;
                if self.lockdown {
                    return Err(SimError::Refused("the site is locked down".into()));
                }
                self.unlock(door, now, false, &mut events);
            }
            DoorCommand::Lockdown { on } => {
                self.lockdown = *on;
                for door in 0..self.doors.len() {
                    let mode = if *on {
                        DoorMode::LockedDown
                    } else {
                        DoorMode::Locked
                    };
                    self.set_mode(door, mode, now, &mut events);
                    if *on && self.doors[door].lock == LockPhysicalState::Unlocked {
                        self.set_lock(door, LockPhysicalState::Locked, now, &mut events);
                    }
                }
                if *on {
                    self.pending.retain(|(_, _, step)| *step != Step::Open);
                }
            }
            DoorCommand::ForceOpen { door } => {
                let door = self.index(door)?;
                self.force_open(door, now, &mut events);
            }
            DoorCommand::HoldOpen { door } => {
                let door = self.index(door)?;
                if self.lockdown {
                    return Err(SimError::Refused("the site is locked down".into()));
                }
                self.unlock(door, now, true, &mut events);
            }
        }
        Ok(events)
    }

    fn index(&self, door: &str) -> Result<usize, SimError> {
        self.doors
            .iter()
            .position(|d| d.id == door)
            .ok_or_else(|| SimError::UnknownDoor(door.to_owned()))
    }

    fn swipe(&mut self, door: usize, now: SystemTime, events: &mut Vec<DoorEvent>) {
        let (credential, holder) = HOLDERS[self.rng.random_range(0..HOLDERS.len())];
        let denied = self
            .rng
            .random_bool(self.settings.denied_share.clamp(0.0, 1.0));
        if self.lockdown || denied || self.doors[door].door == DoorPhysicalState::Open {
            let reason = if self.lockdown {
                "LockedDown"
            } else {
                "CredentialNotPermittedAtThisTime"
            };
            self.emit(
                door,
                now,
                DoorEventKind::AccessDenied {
                    credential: credential.into(),
                    reason: reason.into(),
                },
                events,
            );
            return;
        }
        self.emit(
            door,
            now,
            DoorEventKind::AccessGranted {
                credential: credential.into(),
                holder: holder.into(),
            },
            events,
        );
        let held = self
            .rng
            .random_bool(self.settings.held_open_share.clamp(0.0, 1.0));
        self.unlock(door, now, held, events);
    }

    /// Unlocks for one passage; the person opens the door a second later and it closes after
    /// four, unless `held`, when it stays open past the limit.
    fn unlock(&mut self, door: usize, now: SystemTime, held: bool, events: &mut Vec<DoorEvent>) {
        self.set_mode(door, DoorMode::Accessed, now, events);
        self.set_lock(door, LockPhysicalState::Unlocked, now, events);
        self.pending
            .push((now + Duration::from_secs(1), door, Step::Open));
        if held {
            let limit = self.settings.open_limit;
            self.pending
                .push((now + Duration::from_secs(1) + limit, door, Step::TooLong));
            self.pending.push((now + limit * 2, door, Step::Close));
            self.pending
                .push((now + limit * 2 + Duration::from_secs(1), door, Step::Lock));
        } else {
            self.pending
                .push((now + Duration::from_secs(4), door, Step::Close));
            self.pending
                .push((now + Duration::from_secs(5), door, Step::Lock));
        }
    }

    fn force_open(&mut self, door: usize, now: SystemTime, events: &mut Vec<DoorEvent>) {
        if self.doors[door].door == DoorPhysicalState::Closed {
            self.set_door(door, DoorPhysicalState::Open, now, events);
        }
        self.set_alarm(door, DoorAlarm::DoorForcedOpen, now, events);
        // Forcing it again re-arms the close: one pending close a door, however many requests.
        self.pending
            .retain(|(_, d, step)| !(*d == door && *step == Step::ForcedClose));
        self.pending
            .push((now + Duration::from_secs(10), door, Step::ForcedClose));
    }

    fn run_step(&mut self, door: usize, step: Step, at: SystemTime, events: &mut Vec<DoorEvent>) {
        match step {
            Step::Open => self.set_door(door, DoorPhysicalState::Open, at, events),
            Step::Close => {
                self.set_door(door, DoorPhysicalState::Closed, at, events);
                if self.doors[door].alarm == DoorAlarm::DoorOpenTooLong {
                    self.set_alarm(door, DoorAlarm::Normal, at, events);
                }
            }
            Step::Lock => {
                self.set_lock(door, LockPhysicalState::Locked, at, events);
                let mode = if self.lockdown {
                    DoorMode::LockedDown
                } else {
                    DoorMode::Locked
                };
                self.set_mode(door, mode, at, events);
            }
            Step::TooLong => {
                if self.doors[door].door == DoorPhysicalState::Open {
                    self.set_alarm(door, DoorAlarm::DoorOpenTooLong, at, events);
                }
            }
            Step::ForcedClose => {
                self.set_door(door, DoorPhysicalState::Closed, at, events);
                self.set_alarm(door, DoorAlarm::Normal, at, events);
            }
        }
    }

    fn set_door(
        &mut self,
        door: usize,
        state: DoorPhysicalState,
        at: SystemTime,
        events: &mut Vec<DoorEvent>,
    ) {
        if self.doors[door].door != state {
            self.doors[door].door = state;
            self.emit(door, at, DoorEventKind::DoorPhysicalState { state }, events);
        }
    }

    fn set_lock(
        &mut self,
        door: usize,
        state: LockPhysicalState,
        at: SystemTime,
        events: &mut Vec<DoorEvent>,
    ) {
        if self.doors[door].lock != state {
            self.doors[door].lock = state;
            self.emit(door, at, DoorEventKind::LockPhysicalState { state }, events);
        }
    }

    fn set_alarm(
        &mut self,
        door: usize,
        state: DoorAlarm,
        at: SystemTime,
        events: &mut Vec<DoorEvent>,
    ) {
        if self.doors[door].alarm != state {
            self.doors[door].alarm = state;
            self.emit(door, at, DoorEventKind::DoorAlarm { state }, events);
        }
    }

    fn set_mode(
        &mut self,
        door: usize,
        state: DoorMode,
        at: SystemTime,
        events: &mut Vec<DoorEvent>,
    ) {
        if self.doors[door].mode != state {
            self.doors[door].mode = state;
            self.emit(door, at, DoorEventKind::DoorMode { state }, events);
        }
    }

    fn emit(
        &mut self,
        door: usize,
        at: SystemTime,
        kind: DoorEventKind,
        events: &mut Vec<DoorEvent>,
    ) {
        self.sequence += 1;
        events.push(DoorEvent {
            id: format!("{}:{}:{}", self.site, self.boot, self.sequence),
            time: humantime::format_rfc3339_millis(at).to_string(),
            site: self.site.clone(),
            door: self.doors[door].id.clone(),
            topic: kind.topic().to_owned(),
            kind,
        });
    }
}

fn per_minute_interval(per_minute: f64) -> Option<Duration> {
    if per_minute > 0.0 && per_minute.is_finite() {
        Duration::try_from_secs_f64(60.0 / per_minute).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doors(settings: DoorSettings) -> DoorControllers {
        let ids: Vec<String> = (1..=3).map(|n| format!("door{n:02}")).collect();
        DoorControllers::new("hq", &ids, settings, 1, 7)
    }

    fn quiet() -> DoorSettings {
        DoorSettings {
            swipes_per_minute: 0.0,
            forced_per_hour: 0.0,
            ..DoorSettings::default()
        }
    }

    fn kinds(events: &[DoorEvent]) -> Vec<&DoorEventKind> {
        events.iter().map(|e| &e.kind).collect()
    }

    #[test]
    fn a_momentary_unlock_opens_closes_and_relocks() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut sim = doors(quiet());
        let events = sim
            .command(
                &DoorCommand::MomentaryUnlock {
                    door: "door02".into(),
                },
                t0,
            )
            .expect("unlock");
        assert_eq!(
            kinds(&events),
            [
                &DoorEventKind::DoorMode {
                    state: DoorMode::Accessed
                },
                &DoorEventKind::LockPhysicalState {
                    state: LockPhysicalState::Unlocked
                },
            ]
        );
        let later: Vec<DoorEvent> = (1..=6)
            .flat_map(|s| sim.tick(t0 + Duration::from_secs(s)))
            .collect();
        assert_eq!(
            kinds(&later),
            [
                &DoorEventKind::DoorPhysicalState {
                    state: DoorPhysicalState::Open
                },
                &DoorEventKind::DoorPhysicalState {
                    state: DoorPhysicalState::Closed
                },
                &DoorEventKind::LockPhysicalState {
                    state: LockPhysicalState::Locked
                },
                &DoorEventKind::DoorMode {
                    state: DoorMode::Locked
                },
            ]
        );
        assert!(later.iter().all(|e| e.door == "door02"));
        assert_eq!(later[0].time, "1970-01-12T13:46:41.000Z");
        assert_eq!(later[0].topic, "tns1:Door/State/DoorPhysicalState");
    }

    #[test]
    fn forced_and_held_doors_raise_and_clear_alarms() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(5_000);
        let mut sim = doors(quiet());
        let forced = sim
            .command(
                &DoorCommand::ForceOpen {
                    door: "door01".into(),
                },
                t0,
            )
            .expect("force");
        assert!(kinds(&forced).contains(&&DoorEventKind::DoorAlarm {
            state: DoorAlarm::DoorForcedOpen
        }));
        let cleared = sim.tick(t0 + Duration::from_secs(11));
        assert!(kinds(&cleared).contains(&&DoorEventKind::DoorAlarm {
            state: DoorAlarm::Normal
        }));

        sim.command(
            &DoorCommand::HoldOpen {
                door: "door03".into(),
            },
            t0,
        )
        .expect("hold");
        let all: Vec<DoorEvent> = (12..=40)
            .flat_map(|s| sim.tick(t0 + Duration::from_secs(s)))
            .collect();
        let too_long = all
            .iter()
            .position(|e| {
                e.kind
                    == DoorEventKind::DoorAlarm {
                        state: DoorAlarm::DoorOpenTooLong,
                    }
            })
            .expect("open too long");
        let normal = all
            .iter()
            .position(|e| {
                e.kind
                    == DoorEventKind::DoorAlarm {
                        state: DoorAlarm::Normal,
                    }
            })
            .expect("back to normal");
        assert!(too_long < normal);
    }

    #[test]
    fn a_flood_of_force_open_requests_keeps_one_pending_close() {
        let t0 = SystemTime::UNIX_EPOCH;
        let mut sim = doors(quiet());
        for _ in 0..10_000 {
            sim.command(
                &DoorCommand::ForceOpen {
                    door: "door01".into(),
                },
                t0,
            )
            .expect("force");
        }
        assert_eq!(sim.pending.len(), 1);
    }

    #[test]
    fn lockdown_denies_everything_and_refuses_unlocks() {
        let t0 = SystemTime::UNIX_EPOCH;
        let mut sim = doors(DoorSettings {
            swipes_per_minute: 600.0,
            ..quiet()
        });
        let events = sim
            .command(&DoorCommand::Lockdown { on: true }, t0)
            .expect("lockdown");
        assert_eq!(events.len(), 3, "every door reports LockedDown");
        assert!(sim.status().iter().all(|d| d.mode == DoorMode::LockedDown));
        let swipes: Vec<DoorEvent> = (1..100)
            .flat_map(|s| sim.tick(t0 + Duration::from_millis(s * 100)))
            .collect();
        assert!(!swipes.is_empty());
        assert!(
            swipes
                .iter()
                .all(|e| matches!(e.kind, DoorEventKind::AccessDenied { .. }))
        );
        let refused = sim.command(
            &DoorCommand::MomentaryUnlock {
                door: "door01".into(),
            },
            t0,
        );
        assert!(matches!(refused, Err(SimError::Refused(_))));
        assert!(matches!(
            sim.command(
                &DoorCommand::ForceOpen {
                    door: "nope".into()
                },
                t0
            ),
            Err(SimError::UnknownDoor(_))
        ));
    }

    #[test]
    fn swipes_come_at_the_configured_rate_with_unique_ids() {
        let t0 = SystemTime::UNIX_EPOCH;
        let mut sim = doors(DoorSettings {
            swipes_per_minute: 60.0,
            ..quiet()
        });
        let events: Vec<DoorEvent> = (0..6000)
            .flat_map(|i| sim.tick(t0 + Duration::from_millis(i * 100)))
            .collect();
        let swipes = events
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    DoorEventKind::AccessGranted { .. } | DoorEventKind::AccessDenied { .. }
                )
            })
            .count();
        assert!(
            (450..=750).contains(&swipes),
            "{swipes} swipes in 10 minutes at 60/min"
        );
        let mut ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), events.len());
        let json = serde_json::to_value(&events[0]).expect("json");
        assert!(json["type"].is_string() && json["topic"].is_string() && json["door"].is_string());
    }
}
