//! Adaptive streams: the sub-stream for small tiles, the main stream for large ones, with
//! hysteresis so a tile near the threshold does not flap, and no decoding at all for a camera
//! no tile shows. Switching is gap-free ([`StreamSwitch`]).

use crate::{Frame, MediaEngine, MediaError, Stream, StreamSettings, StreamSwitch};
use std::sync::Arc;

/// Which of a camera's streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    Main,
    Sub,
}

/// When to change streams, by the tile's height in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdaptivePolicy {
    /// Switch to the main stream when the tile is at least this tall.
    pub main_from: u32,
    /// Switch back to the sub-stream when the tile is shorter than this.
    pub sub_below: u32,
}

impl AdaptivePolicy {
    /// Main once the tile is half again as tall as the sub-stream; back to sub when it is
    /// under 1.2 times: upscaling a sub-stream a little is fine, flapping is not.
    pub fn for_sub_height(sub_height: u32) -> Self {
        Self {
            main_from: sub_height.saturating_mul(3) / 2,
            sub_below: sub_height.saturating_mul(6) / 5,
        }
    }

    /// The stream a tile `height` pixels tall should show, given what it shows now.
    pub fn choose(&self, current: Quality, height: u32) -> Quality {
        match current {
            Quality::Sub if height >= self.main_from => Quality::Main,
            Quality::Main if height < self.sub_below => Quality::Sub,
            same => same,
        }
    }
}

type Waker = Arc<dyn Fn() + Send + Sync>;

/// One camera as a tile shows it.
pub struct AdaptiveStream {
    engine: MediaEngine,
    main: StreamSettings,
    sub: Option<StreamSettings>,
    policy: AdaptivePolicy,
    quality: Quality,
    /// None while no tile shows the camera: nothing is decoded.
    switch: Option<StreamSwitch>,
    waker: Option<Waker>,
}

impl std::fmt::Debug for AdaptiveStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdaptiveStream")
            .field("quality", &self.quality)
            .field("decoding", &self.switch.is_some())
            .finish_non_exhaustive()
    }
}

impl AdaptiveStream {
    /// A camera with a main and an optional sub-stream; nothing is opened until shown.
    pub fn new(
        engine: &MediaEngine,
        main: StreamSettings,
        sub: Option<StreamSettings>,
        policy: AdaptivePolicy,
    ) -> Self {
        Self {
            engine: engine.clone(),
            quality: if sub.is_some() {
                Quality::Sub
            } else {
                Quality::Main
            },
            main,
            sub,
            policy,
            switch: None,
            waker: None,
        }
    }

    /// Wraps a stream that is already open (one stream, no adaptation).
    pub fn fixed(engine: &MediaEngine, stream: Stream) -> Self {
        Self {
            engine: engine.clone(),
            main: stream.settings().clone(),
            sub: None,
            policy: AdaptivePolicy {
                main_from: 0,
                sub_below: 0,
            },
            quality: Quality::Main,
            switch: Some(StreamSwitch::new(stream)),
            waker: None,
        }
    }

    /// Called whenever a new frame arrives on any stream this camera decodes.
    pub fn set_waker(&mut self, waker: Option<Waker>) {
        self.waker = waker;
        if let Some(switch) = &self.switch {
            switch.active().slot().set_waker(self.waker.clone());
            if let Some(pending) = switch.pending() {
                pending.slot().set_waker(self.waker.clone());
            }
        }
    }

    fn open(&self, quality: Quality) -> Result<Stream, MediaError> {
        let settings = match (quality, &self.sub) {
            (Quality::Sub, Some(sub)) => sub.clone(),
            _ => self.main.clone(),
        };
        let stream = self.engine.open(settings)?;
        stream.slot().set_waker(self.waker.clone());
        Ok(stream)
    }

    /// The tile shows this camera `height` pixels tall: decode the right stream.
    pub fn show_at(&mut self, height: u32) -> Result<(), MediaError> {
        let wanted = if self.sub.is_some() {
            self.policy.choose(self.quality, height)
        } else {
            Quality::Main
        };
        match self.switch.as_mut() {
            None => {
                self.quality = wanted;
                self.switch = Some(StreamSwitch::new(self.open(wanted)?));
            }
            Some(_) if wanted != self.quality => {
                self.quality = wanted;
                let next = self.open(wanted)?;
                if let Some(switch) = self.switch.as_mut() {
                    switch.switch_to(next);
                }
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// No tile shows this camera: stop decoding it (without waiting for the teardown).
    pub fn hide(&mut self) {
        if let Some(switch) = self.switch.take() {
            switch.close_in_background();
        }
    }

    /// The stream that will show next (for its state and health), if decoding.
    pub fn current(&self) -> Option<&Stream> {
        self.switch.as_ref().map(|s| s.active())
    }

    pub fn quality(&self) -> Quality {
        self.quality
    }

    pub fn is_decoding(&self) -> bool {
        self.switch.is_some()
    }

    /// The newest frame to show, if one arrived.
    pub fn take_frame(&mut self) -> Option<Frame> {
        self.switch.as_mut()?.take_frame()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hysteresis_keeps_a_tile_near_the_threshold_from_flapping() {
        let policy = AdaptivePolicy::for_sub_height(360);
        assert_eq!(
            policy,
            AdaptivePolicy {
                main_from: 540,
                sub_below: 432
            }
        );
        assert_eq!(policy.choose(Quality::Sub, 270), Quality::Sub);
        assert_eq!(policy.choose(Quality::Sub, 500), Quality::Sub);
        assert_eq!(policy.choose(Quality::Sub, 540), Quality::Main);
        assert_eq!(policy.choose(Quality::Main, 500), Quality::Main);
        assert_eq!(policy.choose(Quality::Main, 431), Quality::Sub);
    }
}
