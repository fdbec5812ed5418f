//! Changing what a tile shows (main stream for a big tile, sub-stream for a small one) without
//! a black frame: the old stream keeps showing until the new one has delivered its first frame.

use crate::{Frame, Stream};

/// The stream a tile shows, and the one it is switching to.
#[derive(Debug)]
pub struct StreamSwitch {
    active: Stream,
    pending: Option<Stream>,
}

impl StreamSwitch {
    pub fn new(stream: Stream) -> Self {
        Self {
            active: stream,
            pending: None,
        }
    }

    /// Starts switching to `next`; the current stream keeps showing until `next` delivers.
    /// A switch already under way is abandoned.
    pub fn switch_to(&mut self, next: Stream) {
        self.pending = Some(next);
    }

    /// The stream now showing.
    pub fn active(&self) -> &Stream {
        &self.active
    }

    /// The stream being switched to, until it delivers.
    pub fn pending(&self) -> Option<&Stream> {
        self.pending.as_ref()
    }

    /// The newest frame to show, completing a switch as soon as the new stream has a frame.
    pub fn take_frame(&mut self) -> Option<Frame> {
        if let Some(frame) = self.pending.as_ref().and_then(|p| p.slot().take()) {
            if let Some(next) = self.pending.take() {
                // The old stream is torn down here, after the new one has a frame to show.
                self.active = next;
            }
            return Some(frame);
        }
        self.active.slot().take()
    }
}
