//! A playback clock: the recorded instant a set of replays shows now. Replays that share one
//! (the tiles of a wall in playback) show the same instant: each shows its latest frame
//! captured at or before the clock, so their pictures agree within one frame interval. The
//! recorder sends as fast as the client reads (`Rate-Control: no`); the clock paces, so it
//! can run at any speed, pause and step without asking the recorder for anything.

use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Speeds a clock runs at: from a quarter to sixteen times real time.
pub const RATES: std::ops::RangeInclusive<f64> = 0.25..=16.0;

/// The longest a waiting frame sleeps before it looks again (a stop, a closing pipeline).
const LOOK_AGAIN: Duration = Duration::from_millis(20);

#[derive(Debug, Clone)]
struct Position {
    /// The recorded instant (Unix µs) at `since`.
    at_us: i64,
    since: Instant,
    rate: f64,
    paused: bool,
    /// The capture times of the frames waiting for the clock now (one per replay at most).
    waiting: Vec<i64>,
}

impl Position {
    fn now_us(&self) -> i64 {
        if self.paused {
            return self.at_us;
        }
        let elapsed_us = self.since.elapsed().as_secs_f64() * 1e6 * self.rate;
        self.at_us.saturating_add(elapsed_us as i64)
    }

    /// The same position, rebased on now (before a change of rate or pause).
    fn rebase(&mut self) {
        self.at_us = self.now_us();
        self.since = Instant::now();
    }
}

/// A clock over recorded time, shared by the replays it paces. Cloning shares it.
#[derive(Debug, Clone)]
pub struct PlaybackClock(Arc<(Mutex<Position>, Condvar)>);

impl PlaybackClock {
    /// A clock standing at `at_us` (Unix µs), paused, at `rate` (clamped to [`RATES`]).
    pub fn paused_at(at_us: i64, rate: f64) -> Self {
        Self(Arc::new((
            Mutex::new(Position {
                at_us,
                since: Instant::now(),
                rate: clamp_rate(rate),
                paused: true,
                waiting: Vec::new(),
            }),
            Condvar::new(),
        )))
    }

    /// The recorded instant shown now, Unix µs.
    pub fn now_us(&self) -> i64 {
        self.0.0.lock().now_us()
    }

    pub fn rate(&self) -> f64 {
        self.0.0.lock().rate
    }

    pub fn is_paused(&self) -> bool {
        self.0.0.lock().paused
    }

    /// Whether `other` is this very clock (not one standing at the same place).
    pub fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    fn change(&self, change: impl FnOnce(&mut Position)) {
        let mut position = self.0.0.lock();
        position.rebase();
        change(&mut position);
        self.0.1.notify_all();
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

    /// Pauses and moves on by `by_us`.
    pub fn step(&self, by_us: i64) {
        self.change(|p| {
            p.paused = true;
            p.at_us = p.at_us.saturating_add(by_us.max(0));
        });
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
        let (lock, changed) = &*self.0;
        let mut position = lock.lock();
        let mut noted = false;
        let done = loop {
            let ahead_us = capture_us.saturating_sub(position.now_us());
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
            let sleep = if position.paused {
                LOOK_AGAIN
            } else {
                let real_us = ahead_us as f64 / position.rate;
                Duration::from_micros(real_us.ceil() as u64).min(LOOK_AGAIN)
            };
            changed.wait_for(&mut position, sleep);
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

    #[test]
    fn a_paused_clock_stands_and_steps() {
        let clock = PlaybackClock::paused_at(1_000_000, 1.0);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(clock.now_us(), 1_000_000);
        clock.step(66_667);
        assert_eq!(clock.now_us(), 1_066_667);
        assert!(clock.is_paused());
        clock.step(-5);
        assert_eq!(clock.now_us(), 1_066_667, "a step never goes back");
    }

    #[test]
    fn a_playing_clock_runs_at_its_rate() {
        let clock = PlaybackClock::paused_at(0, 4.0);
        clock.play();
        std::thread::sleep(Duration::from_millis(100));
        clock.pause();
        let at = clock.now_us();
        // 100 ms at 4x is 400 ms of recording; sleeping is never shorter than asked.
        assert!((400_000..2_000_000).contains(&at), "{at}");
        clock.set_rate(100.0);
        assert_eq!(clock.rate(), 16.0);
        clock.set_rate(f64::NAN);
        assert_eq!(clock.rate(), 1.0);
        assert_eq!(
            clock.now_us(),
            at,
            "changing the rate of a paused clock keeps it"
        );
    }

    #[test]
    fn a_frame_waits_for_the_clock_and_gives_up_when_told() {
        let clock = PlaybackClock::paused_at(0, 1.0);
        assert!(clock.wait_for(0, &|| false, &|| {}));
        let stepper = clock.clone();
        let step = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            stepper.step(10_000);
        });
        let started = Instant::now();
        assert!(clock.wait_for(10_000, &|| false, &|| {}));
        assert!(started.elapsed() >= Duration::from_millis(40));
        step.join().expect("the stepping thread");
        // A frame step goes to the frame waiting.
        let waiter = clock.clone();
        let waits = std::thread::spawn(move || waiter.wait_for(73_000, &|| false, &|| {}));
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(clock.step_frame(40_000), 73_000);
        assert!(waits.join().expect("the waiting thread"));
        assert_eq!(
            clock.step_frame(40_000),
            113_000,
            "none waiting: by the default"
        );
        let give_up = std::sync::atomic::AtomicBool::new(false);
        let waited = std::sync::atomic::AtomicU32::new(0);
        let done = clock.wait_for(
            1_000_000,
            &|| give_up.load(std::sync::atomic::Ordering::Relaxed),
            &|| {
                if waited.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 3 {
                    give_up.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            },
        );
        assert!(!done, "a frame of a closing pipeline stops waiting");
    }
}
