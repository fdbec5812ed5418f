//! A playback clock: the recorded instant a set of replays shows now. Replays that share one
//! (the tiles of a wall in playback) show the same instant: each shows its latest frame
//! captured at or before the clock, so their pictures agree within one frame interval. The
//! recorder sends as fast as the client reads (`Rate-Control: no`, within a bound: see
//! `pipeline.rs`); the clock paces, so it can run at any speed, pause and step without asking
//! the recorder for anything. It never runs past the present.

use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Speeds a clock runs at: from a quarter to sixteen times real time.
pub const RATES: std::ops::RangeInclusive<f64> = 0.25..=16.0;

/// The longest a waiting frame sleeps before it looks again (a stop, a closing pipeline).
const LOOK_AGAIN: Duration = Duration::from_millis(20);

/// Where time comes from: a monotonic instant and the present as Unix µs, read together.
pub type TimeSource = Arc<dyn Fn() -> (Instant, i64) + Send + Sync>;

fn real_time() -> (Instant, i64) {
    let unix_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    (Instant::now(), unix_us)
}

#[derive(Debug, Clone)]
struct Position {
    /// The recorded instant (Unix µs) at `since`.
    at_us: i64,
    since: Instant,
    rate: f64,
    /// Paused by the operator.
    paused: bool,
    /// Held until the replays show the instant it starts at (then released).
    held: bool,
    /// The capture times of the frames waiting for the clock now (one per replay at most).
    waiting: Vec<i64>,
}

impl Position {
    fn now_us(&self, (now, present_us): (Instant, i64)) -> i64 {
        if self.paused || self.held {
            return self.at_us;
        }
        let elapsed_us = now.saturating_duration_since(self.since).as_secs_f64() * 1e6 * self.rate;
        self.at_us
            .saturating_add(elapsed_us as i64)
            .min(present_us.max(self.at_us))
    }

    /// The same position, rebased on now (before a change of rate or pause).
    fn rebase(&mut self, time: (Instant, i64)) {
        self.at_us = self.now_us(time);
        self.since = time.0;
    }
}

/// What a clock says, read at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockReading {
    /// The recorded instant shown now, Unix µs.
    pub at_us: i64,
    pub rate: f64,
    /// Paused by the operator.
    pub paused: bool,
    /// Still waiting for its replays to show the instant it starts at.
    pub held: bool,
}

struct Inner {
    position: Mutex<Position>,
    changed: Condvar,
    time: TimeSource,
}

/// A clock over recorded time, shared by the replays it paces. Cloning shares it.
#[derive(Clone)]
pub struct PlaybackClock(Arc<Inner>);

impl std::fmt::Debug for PlaybackClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PlaybackClock").field(&self.read()).finish()
    }
}

impl PlaybackClock {
    /// A clock standing at `at_us` (Unix µs) at `rate` (clamped to [`RATES`]), held until
    /// [`PlaybackClock::release`]; then it runs, unless `paused`.
    pub fn starting(at_us: i64, rate: f64, paused: bool) -> Self {
        Self::with_time(at_us, rate, paused, Arc::new(real_time))
    }

    /// The same, its time read from `time` (tests).
    pub fn with_time(at_us: i64, rate: f64, paused: bool, time: TimeSource) -> Self {
        let since = time().0;
        Self(Arc::new(Inner {
            position: Mutex::new(Position {
                at_us,
                since,
                rate: clamp_rate(rate),
                paused,
                held: true,
                waiting: Vec::new(),
            }),
            changed: Condvar::new(),
            time,
        }))
    }

    /// The recorded instant shown now, Unix µs.
    pub fn now_us(&self) -> i64 {
        self.0.position.lock().now_us((self.0.time)())
    }

    /// Position, rate and state, read at once.
    pub fn read(&self) -> ClockReading {
        let position = self.0.position.lock();
        ClockReading {
            at_us: position.now_us((self.0.time)()),
            rate: position.rate,
            paused: position.paused,
            held: position.held,
        }
    }

    /// Frames waiting for the clock now.
    pub fn waiting_frames(&self) -> usize {
        self.0.position.lock().waiting.len()
    }

    /// The capture times (Unix µs) of the frames waiting for the clock now, one per replay
    /// at most.
    pub fn waiting_us(&self) -> Vec<i64> {
        self.0.position.lock().waiting.clone()
    }

    /// Whether `other` is this very clock (not one standing at the same place).
    pub fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    fn change(&self, change: impl FnOnce(&mut Position)) {
        let mut position = self.0.position.lock();
        position.rebase((self.0.time)());
        change(&mut position);
        self.0.changed.notify_all();
    }

    /// The replays show the starting instant: the clock runs from now (unless paused).
    pub fn release(&self) {
        self.change(|p| p.held = false);
    }

    /// Released at `first_us` when that is later than where it stands: the replays' first
    /// frames come after the instant asked for (the recording began later, or resumed after a
    /// gap), and a clock left behind them would hold every picture still until it caught up,
    /// then let them all rush on at once.
    pub fn release_at_first(&self, first_us: i64) {
        self.change(|p| {
            if p.held && first_us > p.at_us {
                p.at_us = first_us;
            }
            p.held = false;
        });
    }

    pub fn play(&self) {
        self.change(|p| p.paused = false);
    }

    pub fn pause(&self) {
        self.change(|p| p.paused = true);
    }

    /// Runs at `rate` times real time from now on (clamped to [`RATES`]).
    pub fn set_rate(&self, rate: f64) {
        self.change(|p| p.rate = clamp_rate(rate));
    }

    /// Pauses and moves on to the next frame any of its replays has waiting (the earliest),
    /// or by `otherwise_us` when none has one yet. Returns the instant it stands at.
    pub fn step_frame(&self, otherwise_us: i64) -> i64 {
        let mut at = 0;
        self.change(|p| {
            p.paused = true;
            let next = p.waiting.iter().copied().filter(|w| *w > p.at_us).min();
            p.at_us = next.unwrap_or(p.at_us.saturating_add(otherwise_us.max(0)));
            at = p.at_us;
        });
        at
    }

    /// Waits until the clock reaches `capture_us`. Gives up (false) when `give_up` says so,
    /// which it is asked at least every [`LOOK_AGAIN`]; `waiting` is called each time, so the
    /// caller can tell a frame held by the clock from a stalled stream.
    pub fn wait_for(
        &self,
        capture_us: i64,
        give_up: &dyn Fn() -> bool,
        waiting: &dyn Fn(),
    ) -> bool {
        let mut position = self.0.position.lock();
        let mut noted = false;
        let done = loop {
            let ahead_us = capture_us.saturating_sub(position.now_us((self.0.time)()));
            if ahead_us <= 0 {
                break true;
            }
            if give_up() {
                break false;
            }
            if !noted {
                position.waiting.push(capture_us);
                noted = true;
            }
            waiting();
            let sleep = if position.paused || position.held {
                LOOK_AGAIN
            } else {
                let real_us = ahead_us as f64 / position.rate;
                Duration::from_micros(real_us.ceil() as u64).min(LOOK_AGAIN)
            };
            self.0.changed.wait_for(&mut position, sleep);
        };
        if noted && let Some(at) = position.waiting.iter().position(|w| *w == capture_us) {
            position.waiting.swap_remove(at);
        }
        done
    }
}

fn clamp_rate(rate: f64) -> f64 {
    if rate.is_finite() {
        rate.clamp(*RATES.start(), *RATES.end())
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A time source the test moves by hand.
    fn manual(present_us: i64) -> (TimeSource, Arc<Mutex<(Instant, i64)>>) {
        let now = Arc::new(Mutex::new((Instant::now(), present_us)));
        let read = now.clone();
        (Arc::new(move || *read.lock()), now)
    }

    fn advance(now: &Mutex<(Instant, i64)>, by: Duration) {
        let mut now = now.lock();
        now.0 += by;
        now.1 += by.as_micros() as i64;
    }

    #[test]
    fn a_clock_stands_until_released_and_runs_at_its_rate_no_further_than_the_present() {
        let (time, now) = manual(100_000_000);
        let clock = PlaybackClock::with_time(1_000_000, 4.0, false, time);
        advance(&now, Duration::from_millis(500));
        assert_eq!(clock.now_us(), 1_000_000, "held until released");
        clock.release();
        advance(&now, Duration::from_millis(100));
        assert_eq!(clock.now_us(), 1_400_000, "100 ms at 4x");
        clock.pause();
        advance(&now, Duration::from_millis(100));
        assert_eq!(clock.now_us(), 1_400_000, "paused");
        clock.set_rate(100.0);
        assert_eq!(clock.read().rate, 16.0);
        clock.set_rate(f64::NAN);
        assert_eq!(clock.read().rate, 1.0);
        clock.set_rate(16.0);
        clock.play();
        // Nearly at the present: it stops there.
        advance(&now, Duration::from_secs(200));
        assert_eq!(clock.now_us(), now.lock().1, "never past the present");
    }

    #[test]
    fn released_at_the_first_frame_when_the_recording_begins_after_the_instant() {
        let (time, now) = manual(100_000_000);
        let clock = PlaybackClock::with_time(1_000_000, 1.0, false, time.clone());
        advance(&now, Duration::from_millis(500));
        clock.release_at_first(4_600_000);
        assert_eq!(clock.now_us(), 4_600_000, "from the first frame shown");
        advance(&now, Duration::from_millis(100));
        assert_eq!(clock.now_us(), 4_700_000);
        // A first frame at or before the instant (the key frame before it) moves nothing.
        let clock = PlaybackClock::with_time(1_000_000, 1.0, false, time);
        clock.release_at_first(900_000);
        assert_eq!(clock.now_us(), 1_000_000);
        // Once running, it is not moved.
        clock.release_at_first(9_000_000);
        assert_eq!(clock.now_us(), 1_000_000);
    }

    #[test]
    fn pausing_while_held_is_kept_when_released() {
        let (time, now) = manual(100_000_000);
        let clock = PlaybackClock::with_time(1_000_000, 1.0, false, time);
        clock.pause();
        clock.release();
        advance(&now, Duration::from_millis(300));
        let reading = clock.read();
        assert_eq!(
            (reading.at_us, reading.paused, reading.held),
            (1_000_000, true, false)
        );
    }

    #[test]
    fn a_frame_waits_for_the_clock_and_a_frame_step_goes_to_it() {
        let (time, _) = manual(100_000_000);
        let clock = PlaybackClock::with_time(0, 1.0, true, time);
        clock.release();
        assert!(clock.wait_for(0, &|| false, &|| {}));
        let waiter = clock.clone();
        let waits = std::thread::spawn(move || waiter.wait_for(73_000, &|| false, &|| {}));
        while clock.waiting_frames() == 0 {
            std::thread::yield_now();
        }
        assert_eq!(clock.step_frame(40_000), 73_000);
        assert!(waits.join().expect("the waiting thread"));
        assert_eq!(clock.waiting_frames(), 0);
        assert_eq!(
            clock.step_frame(40_000),
            113_000,
            "none waiting: by the default"
        );
    }

    #[test]
    fn a_waiting_frame_gives_up_when_told() {
        let (time, _) = manual(100_000_000);
        let clock = PlaybackClock::with_time(0, 1.0, true, time);
        let give_up = std::sync::atomic::AtomicBool::new(false);
        let asked = std::sync::atomic::AtomicU32::new(0);
        let done = clock.wait_for(
            1_000_000,
            &|| give_up.load(std::sync::atomic::Ordering::Relaxed),
            &|| {
                if asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 2 {
                    give_up.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            },
        );
        assert!(!done, "a frame of a closing pipeline stops waiting");
        assert_eq!(clock.waiting_frames(), 0);
    }
}
