//! Recorded video on the wall: instant replay of a tile, an alarm's cameras from before the
//! alarm, and back to live. The tile keeps showing what it showed until the first frame of
//! what comes next (no black frame between).

use super::*;
use crate::walls::PlaybackView;
use contract::{RecorderHealth, StreamName};
use media::PlaybackClock;
use std::time::Duration;

/// How long before an alarm its replay starts.
pub const BEFORE_ALARM_MS: i64 = 10_000;

/// How long a wall's playback waits for every tile's first frame before its clock runs anyway
/// (a tile whose recorder is slow to answer joins in on the clock's instant).
const PLAYBACK_START_WAIT: Duration = Duration::from_secs(3);
/// How long every tile has a frame held by a playback's clock, and none has shown a first
/// one, before the playback takes it that every recording begins after its instant.
const ALL_HELD_FOR: Duration = Duration::from_millis(500);

/// A frame step when no tile has its next frame yet: one frame at 25 fps.
const STEP_US: i64 = 40_000;

/// What an operator does to a wall's playback.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlaybackControl {
    Play,
    Pause,
    /// Times real time, 1/4 to 16.
    Rate {
        rate: f64,
    },
    /// Pauses and shows the next frame (of the tile whose next frame comes first).
    Step,
}

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

    /// Wall `wall` plays back from `from_ms` (Unix ms) at 1x: every tile with a recorded camera
    /// shows the same instant, on one clock. Returns the tiles replaying.
    pub async fn replay_wall(&self, wall: &str, from_ms: i64) -> Result<Vec<usize>> {
        self.play_wall_from(wall, from_ms, 1.0, false).await
    }

    /// Wall `wall`'s playback goes to `at_ms` (Unix ms), at the speed it had, paused if it was
    /// (at 1x, playing, when the wall was live). Returns the tiles replaying.
    pub async fn seek_wall(&self, wall: &str, at_ms: i64) -> Result<Vec<usize>> {
        let (rate, paused) = self
            .walls
            .lock()
            .playback(wall)
            .map(|clock| clock.read())
            .map_or((1.0, false), |clock| (clock.rate, clock.paused));
        self.play_wall_from(wall, at_ms, rate, paused).await
    }

    async fn play_wall_from(
        &self,
        wall: &str,
        from_ms: i64,
        rate: f64,
        paused: bool,
    ) -> Result<Vec<usize>> {
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
        // The clock stands at the instant until the tiles show it, then runs (unless paused).
        let clock = PlaybackClock::starting(from_ms * 1000, rate, paused);
        tracing::info!(wall, from_ms, rate, paused, "the wall plays back");
        let tiles =
            self.change_walls(|walls, source| walls.replay_all(wall, &clock, &recorded, source))?;
        self.release_when_shown(wall, &tiles, clock);
        Ok(tiles)
    }

    /// Releases `clock` once every tile in `tiles` of `wall` shows its first frame of this
    /// playback (or after [`PLAYBACK_START_WAIT`]), unless the wall has moved on to another
    /// clock meanwhile.
    fn release_when_shown(&self, wall: &str, tiles: &[usize], clock: PlaybackClock) {
        let from_ms = clock.now_us().div_euclid(1000);
        let (core, wall, tiles) = (self.me.clone(), wall.to_owned(), tiles.to_vec());
        let releasing = clock.clone();
        let started = std::thread::Builder::new()
            .name("playback-start".into())
            .spawn(move || {
                let deadline = Instant::now() + PLAYBACK_START_WAIT;
                // Since when every tile has a frame held by the clock and none has shown one.
                let mut all_held_since: Option<Instant> = None;
                loop {
                    let Some(core) = core.upgrade() else {
                        return;
                    };
                    let current = core.walls.lock().playback(&wall);
                    if !current.is_some_and(|c| c.same(&clock)) {
                        return;
                    }
                    // The first frame each tile shows of this playback's stream (not of the
                    // one it replaces, still on screen): the frame at or before the instant.
                    let firsts: Vec<i64> = core
                        .stream_health()
                        .iter()
                        .filter(|h| h.wall == wall && tiles.contains(&h.tile))
                        .filter_map(|h| {
                            h.replay
                                .filter(|r| r.from_ms == from_ms)
                                .and_then(|r| r.first_capture_ms)
                        })
                        .map(|ms| ms.saturating_mul(1000))
                        .collect();
                    // The frames held by the clock, one a tile: after the instant. When every
                    // tile has one and none has shown a first frame for a moment (not just a
                    // health report lagging behind the first frames drawn), every recording
                    // begins after the instant asked for.
                    let waiting = clock.waiting_us();
                    all_held_since = if waiting.len() >= tiles.len() && firsts.is_empty() {
                        all_held_since.or_else(|| Some(Instant::now()))
                    } else {
                        None
                    };
                    let begins_later =
                        all_held_since.is_some_and(|since| since.elapsed() >= ALL_HELD_FOR);
                    if firsts.len() >= tiles.len() || begins_later || Instant::now() >= deadline {
                        // From the earliest frame there is then (else the pictures would stand
                        // still until the clock reached them); a tile whose recording begins
                        // later than the others' waits for the clock. Where a tile showed the
                        // frame at or before the instant, the clock stays on the instant.
                        tracing::debug!(
                            wall,
                            from_ms,
                            ?firsts,
                            ?waiting,
                            begins_later,
                            "the playback clock runs"
                        );
                        match firsts.iter().chain(&waiting).min() {
                            Some(first) => clock.release_at_first(*first),
                            None => clock.release(),
                        }
                        core.emit_walls();
                        return;
                    }
                    drop(core);
                    std::thread::sleep(Duration::from_millis(50));
                }
            });
        if let Err(error) = started {
            tracing::warn!(%error, "the playback starts without waiting for its first frames");
            releasing.release();
        }
    }

    /// Plays, pauses, changes the speed of or steps wall `wall`'s playback.
    pub fn control_playback(&self, wall: &str, control: PlaybackControl) -> Result<PlaybackView> {
        let clock = self.walls.lock().playback(wall).ok_or_else(|| {
            AppError::bad_input(format!("wall `{wall}` is not playing back a recording"))
        })?;
        match control {
            PlaybackControl::Play => clock.play(),
            PlaybackControl::Pause => clock.pause(),
            PlaybackControl::Rate { rate } => {
                if !media::RATES.contains(&rate) {
                    return Err(AppError::bad_input(format!(
                        "a playback runs at {} to {} times real time",
                        media::RATES.start(),
                        media::RATES.end()
                    )));
                }
                clock.set_rate(rate);
            }
            PlaybackControl::Step => {
                clock.step_frame(STEP_US);
            }
        }
        self.emit_walls();
        Ok(PlaybackView::from(&clock))
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
        self.replay_cameras(
            &alarm.cameras,
            from_us,
            |walls, missing, source| {
                if alarm.state == AlarmState::New {
                    let pop = AlarmPop {
                        alarm: alarm.id.clone(),
                        cameras: missing,
                    };
                    walls.pop_alarm(&pop, source).map(drop)
                } else {
                    walls.show_on_alarm_tiles(&missing, source)
                }
            },
            &format!("alarm `{}` names no camera to replay", alarm.id),
        )
        .await
    }

    /// Replays `camera` from `from_ms` (Unix ms: a bookmark's instant, an event's) on the
    /// tiles that show it; when none does, on the first wall's alarm tiles. Returns the tiles
    /// replaying: (wall, tile).
    pub async fn replay_camera(&self, camera: &str, from_ms: i64) -> Result<Vec<(String, usize)>> {
        if !self.state.lock().cameras.contains_key(camera) {
            return Err(AppError::bad_input(format!(
                "no camera `{camera}` is known"
            )));
        }
        self.replay_cameras(
            &[camera.to_owned()],
            from_ms.max(0).saturating_mul(1000),
            |walls, missing, source| walls.show_on_alarm_tiles(&missing, source),
            &format!(
                "camera `{camera}` is on no tile, and every alarm tile shows an alarm nobody \
                 has acknowledged: put the camera on a tile, then play it"
            ),
        )
        .await
    }

    /// Replays `cameras` from `from_us` on every tile that shows them; when none of them shows,
    /// `put_up` puts them on the walls first (a camera already showing is never taken off its
    /// tile for another). `nothing` says why when no tile replays and none said why.
    async fn replay_cameras(
        &self,
        cameras: &[String],
        from_us: i64,
        put_up: impl FnOnce(&mut Walls, Vec<String>, &Source<'_>) -> Result<()>,
        nothing: &str,
    ) -> Result<Vec<(String, usize)>> {
        let mut recorded = Vec::with_capacity(cameras.len());
        for camera in cameras {
            recorded.push(self.recorded_streams(camera).await);
        }
        self.change_walls(|walls, source| {
            let missing: Vec<String> = cameras
                .iter()
                .filter(|c| walls.tiles_showing(c).is_empty())
                .cloned()
                .collect();
            if missing.len() == cameras.len() {
                put_up(walls, missing, source)?;
            }
            let mut tiles = Vec::new();
            let mut problems = Vec::new();
            for (camera, recorded) in cameras.iter().zip(&recorded) {
                for (wall, tile) in walls.tiles_showing(camera) {
                    match walls.replay(&wall, tile, from_us, recorded, source) {
                        Ok(()) => tiles.push((wall, tile)),
                        Err(error) => problems.push(error),
                    }
                }
            }
            match problems.into_iter().next() {
                Some(problem) if tiles.is_empty() => Err(problem),
                _ if tiles.is_empty() => Err(AppError::bad_input(nothing)),
                _ => Ok(tiles),
            }
        })
    }
}
