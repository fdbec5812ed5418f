//! Recorded video on the wall: instant replay of a tile, an alarm's cameras from before the
//! alarm, and back to live. The tile keeps showing what it showed until the first frame of
//! what comes next (no black frame between).

use super::*;
use contract::{RecorderHealth, StreamName};

/// How long before an alarm its replay starts.
pub const BEFORE_ALARM_MS: i64 = 10_000;

/// Instant replay's reach: at least a few seconds, at most ten minutes (the recorder keeps
/// more, but a minute or two is what "instant" means).
const INSTANT_REPLAY_S: std::ops::RangeInclusive<u32> = 5..=600;

impl Core {
    /// How far back instant replay goes (seconds).
    pub fn instant_replay_s(&self) -> u32 {
        let saved = self.state.lock().saved.instant_replay_s;
        saved.clamp(*INSTANT_REPLAY_S.start(), *INSTANT_REPLAY_S.end())
    }

    /// Sets how far back instant replay goes (5 to 600 seconds); remembered in the profile.
    pub fn set_instant_replay_s(&self, seconds: u32) -> Result<()> {
        if !INSTANT_REPLAY_S.contains(&seconds) {
            return Err(AppError::bad_input(format!(
                "instant replay goes back {} to {} seconds",
                INSTANT_REPLAY_S.start(),
                INSTANT_REPLAY_S.end()
            )));
        }
        self.state.lock().saved.instant_replay_s = seconds;
        self.save();
        Ok(())
    }

    /// What the camera's recorder says it records of `camera` (empty when it has not said:
    /// no report yet, or the hub unreachable).
    async fn recorded_streams(&self, camera: &str) -> Vec<StreamName> {
        let Some(site) = self
            .state
            .lock()
            .cameras
            .get(camera)
            .map(|c| c.site.clone())
        else {
            return Vec::new();
        };
        let path = format!(
            "/sites/{}/recorders/health",
            crate::hub_client::encode(&site)
        );
        match self
            .hub_get(&path)
            .await
            .and_then(read_hub::<Vec<RecorderHealth>>)
        {
            Ok(health) => health
                .iter()
                .flat_map(|h| h.report.streams.iter())
                .filter(|s| s.camera == camera)
                .map(|s| s.stream)
                .collect(),
            Err(error) => {
                tracing::info!(%error, camera, "what the recorder records is not known");
                Vec::new()
            }
        }
    }

    /// Tile `tile` of wall `wall` replays its camera from `from_ms` (Unix ms), or from the
    /// instant replay's reach before now.
    pub async fn replay_tile(&self, wall: &str, tile: usize, from_ms: Option<i64>) -> Result<()> {
        let now = now_ms();
        let from_ms = match from_ms {
            Some(from_ms) => from_ms,
            None => now - i64::from(self.instant_replay_s()) * 1000,
        };
        if !(0..=now).contains(&from_ms) {
            return Err(AppError::bad_input(
                "a replay starts at an instant between 1970 and now",
            ));
        }
        let camera = self.walls.lock().camera_on(wall, tile);
        let recorded = match &camera {
            Some(camera) => self.recorded_streams(camera).await,
            None => Vec::new(),
        };
        self.change_walls(|walls, source| {
            walls.replay(wall, tile, from_ms * 1000, &recorded, source)
        })
    }

    /// Every tile of wall `wall` replays its camera from `from_ms` (Unix ms); returns the
    /// tiles replaying.
    pub async fn replay_wall(&self, wall: &str, from_ms: i64) -> Result<Vec<usize>> {
        if !(0..=now_ms()).contains(&from_ms) {
            return Err(AppError::bad_input(
                "a replay starts at an instant between 1970 and now",
            ));
        }
        let cameras: Vec<String> = self
            .walls
            .lock()
            .view(wall)?
            .state
            .cameras
            .into_iter()
            .flatten()
            .collect();
        let mut recorded = std::collections::BTreeMap::new();
        for camera in cameras {
            if let std::collections::btree_map::Entry::Vacant(place) = recorded.entry(camera) {
                let streams = self.recorded_streams(place.key()).await;
                place.insert(streams);
            }
        }
        self.change_walls(|walls, source| walls.replay_all(wall, from_ms * 1000, &recorded, source))
    }

    /// Every tile of wall `wall` shows its camera live again.
    pub fn wall_live_again(&self, wall: &str) -> Result<()> {
        self.change_walls(|walls, source| walls.live_all(wall, source))
    }

    /// Tile `tile` of wall `wall` shows its camera live again.
    pub fn live_again(&self, wall: &str, tile: usize) -> Result<()> {
        self.change_walls(|walls, source| walls.go_live(wall, tile, source))
    }

    /// Replays alarm `id`'s cameras from ten seconds before it was raised, on the tiles that
    /// show them (the alarm tiles put them there). When none shows: an alarm nobody has
    /// acknowledged puts them up as it would have (flashing); a handled one puts them on the
    /// first wall's alarm tiles like any camera. A camera no recorder records is left out.
    /// Returns the tiles replaying: (wall, tile).
    pub async fn replay_alarm(&self, id: &str) -> Result<Vec<(String, usize)>> {
        let path = format!("/alarms/{}", crate::hub_client::encode(id));
        let alarm: Alarm = read_hub(self.hub_get(&path).await?)?;
        let raised_ms = chrono::DateTime::parse_from_rfc3339(&alarm.raised)
            .map_err(|e| {
                AppError::new(
                    ErrorCode::HubAnswer,
                    format!("the alarm's time `{}` is not a time: {e}", alarm.raised),
                )
            })?
            .timestamp_millis();
        let from_us = (raised_ms - BEFORE_ALARM_MS).max(0) * 1000;
        let mut recorded = Vec::with_capacity(alarm.cameras.len());
        for camera in &alarm.cameras {
            recorded.push(self.recorded_streams(camera).await);
        }
        self.change_walls(|walls, source| {
            let missing: Vec<String> = alarm
                .cameras
                .iter()
                .filter(|c| walls.tiles_showing(c).is_empty())
                .cloned()
                .collect();
            // None shown (a camera already showing is never taken off its tile for another).
            if missing.len() == alarm.cameras.len() {
                if alarm.state == AlarmState::New {
                    let pop = AlarmPop {
                        alarm: alarm.id.clone(),
                        cameras: missing,
                    };
                    walls.pop_alarm(&pop, source)?;
                } else {
                    walls.show_on_alarm_tiles(&missing, source)?;
                }
            }
            let mut tiles = Vec::new();
            let mut problems = Vec::new();
            for (camera, recorded) in alarm.cameras.iter().zip(&recorded) {
                for (wall, tile) in walls.tiles_showing(camera) {
                    match walls.replay(&wall, tile, from_us, recorded, source) {
                        Ok(()) => tiles.push((wall, tile)),
                        Err(error) => problems.push(error),
                    }
                }
            }
            match problems.into_iter().next() {
                Some(problem) if tiles.is_empty() => Err(problem),
                _ if tiles.is_empty() => Err(AppError::bad_input(format!(
                    "alarm `{}` names no camera to replay",
                    alarm.id
                ))),
                _ => Ok(tiles),
            }
        })
    }
}
