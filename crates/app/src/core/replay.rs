//! Recorded video on the wall: instant replay of a tile, an alarm's cameras from before the
//! alarm, and back to live. The tile keeps showing what it showed until the first frame of
//! what comes next (no black frame between).

use super::*;

/// How long before an alarm its replay starts.
pub const BEFORE_ALARM_MS: i64 = 10_000;

/// The longest instant replay an operator may set: the recorder keeps more, but a minute or
/// two is what "instant" means.
const INSTANT_REPLAY_MAX_S: u32 = 600;

impl Core {
    /// How far back instant replay goes (seconds).
    pub fn instant_replay_s(&self) -> u32 {
        self.state.lock().saved.instant_replay_s
    }

    /// Sets how far back instant replay goes (5 to 600 seconds); remembered in the profile.
    pub fn set_instant_replay_s(&self, seconds: u32) -> Result<()> {
        if !(5..=INSTANT_REPLAY_MAX_S).contains(&seconds) {
            return Err(AppError::bad_input(format!(
                "instant replay goes back 5 to {INSTANT_REPLAY_MAX_S} seconds"
            )));
        }
        self.state.lock().saved.instant_replay_s = seconds;
        self.save();
        Ok(())
    }

    /// Tile `tile` of wall `wall` replays its camera from `from_ms` (Unix ms), or from the
    /// instant replay's reach before now.
    pub fn replay_tile(&self, wall: &str, tile: usize, from_ms: Option<i64>) -> Result<()> {
        let from_ms = match from_ms {
            Some(from_ms) => from_ms,
            None => now_ms() - i64::from(self.instant_replay_s()) * 1000,
        };
        if from_ms > now_ms() {
            return Err(AppError::bad_input("a replay cannot start in the future"));
        }
        self.change_walls(|walls, source| walls.replay(wall, tile, from_ms * 1000, source))
    }

    /// Tile `tile` of wall `wall` shows its camera live again.
    pub fn live_again(&self, wall: &str, tile: usize) -> Result<()> {
        self.change_walls(|walls, source| walls.go_live(wall, tile, source))
    }

    /// Replays alarm `id`'s cameras from ten seconds before it was raised, on the tiles that
    /// show them (the alarm tiles put them there); when none shows, they go on the first
    /// wall's alarm tiles first. Returns the tiles replaying: (wall, tile).
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
        let from_us = (raised_ms - BEFORE_ALARM_MS) * 1000;
        self.change_walls(|walls, source| {
            let missing: Vec<String> = alarm
                .cameras
                .iter()
                .filter(|c| walls.tiles_showing(c).is_empty())
                .cloned()
                .collect();
            // None shown: they go up as the alarm put them up (a camera already showing is
            // never taken off its tile for another).
            if missing.len() == alarm.cameras.len() {
                let pop = AlarmPop {
                    alarm: alarm.id.clone(),
                    cameras: missing,
                };
                walls.pop_alarm(&pop, source)?;
            }
            let mut tiles = Vec::new();
            for camera in &alarm.cameras {
                for (wall, tile) in walls.tiles_showing(camera) {
                    walls.replay(&wall, tile, from_us, source)?;
                    tiles.push((wall, tile));
                }
            }
            if tiles.is_empty() {
                return Err(AppError::bad_input(format!(
                    "alarm `{}` names no camera to replay",
                    alarm.id
                )));
            }
            Ok(tiles)
        })
    }
}
