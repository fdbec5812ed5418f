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
        if let Some(abandoned) = self.pending.replace(next) {
            abandoned.close_in_background();
        }
    }

    /// Stops both streams without waiting for their teardown.
    pub fn close_in_background(self) {
        self.active.close_in_background();
        if let Some(pending) = self.pending {
            pending.close_in_background();
        }
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
                // The old stream goes only now that the new one has a frame to show, and the
                // caller (a render thread) does not wait for its teardown.
                std::mem::replace(&mut self.active, next).close_in_background();
            }
            return Some(frame);
        }
        self.active.slot().take()
    }
}
