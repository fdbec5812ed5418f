//! The latest-frame slot: the one hand-off between a stream's decoder thread and whoever shows
//! its frames. It holds at most one frame; a new frame replaces an untaken one, which is counted
//! as dropped. Neither side ever waits for the other beyond a short lock.

use parking_lot::Mutex;
use stamp::Stamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The colour description a renderer needs to turn YUV into RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colorimetry {
    pub matrix: gst_video::VideoColorMatrix,
    pub range: gst_video::VideoColorRange,
    pub transfer: gst_video::VideoTransferFunction,
    pub primaries: gst_video::VideoColorPrimaries,
}

/// A decoded frame: the decoder's own buffer (no copy) and what it takes to read it.
#[derive(Debug, Clone)]
pub struct Frame {
    buffer: gst::Buffer,
    info: gst_video::VideoInfo,
    /// Sequence number within its stream, from 1, counting every decoded frame.
    pub sequence: u64,
    /// Presentation timestamp from the stream, if any.
    pub pts: Option<gst::ClockTime>,
    /// When the decoder handed the frame over.
    pub decoded_at: Instant,
    /// The simulator's pixel stamp, when the source writes one.
    pub stamp: Option<Stamp>,
    /// When the camera captured it, Unix µs: known for replayed video (the ONVIF replay header
    /// extension of its packets).
    pub capture_us: Option<i64>,
}

impl Frame {
    pub(crate) fn new(
        buffer: gst::Buffer,
        info: gst_video::VideoInfo,
        sequence: u64,
        decoded_at: Instant,
        stamp: Option<Stamp>,
    ) -> Self {
        let pts = buffer.pts();
        Self {
            buffer,
            info,
            sequence,
            pts,
            decoded_at,
            stamp,
            capture_us: None,
        }
    }

    pub fn width(&self) -> u32 {
        self.info.width()
    }

    pub fn height(&self) -> u32 {
        self.info.height()
    }

    /// The planar YUV layout as the decoder gave it (I420, NV12, ...).
    pub fn format(&self) -> gst_video::VideoFormat {
        self.info.format()
    }

    pub fn colorimetry(&self) -> Colorimetry {
        let c = self.info.colorimetry();
        Colorimetry {
            matrix: c.matrix(),
            range: c.range(),
            transfer: c.transfer(),
            primaries: c.primaries(),
        }
    }

    pub fn info(&self) -> &gst_video::VideoInfo {
        &self.info
    }

    /// Maps the frame for reading its planes.
    pub fn map(&self) -> Result<gst_video::VideoFrameRef<&gst::BufferRef>, crate::MediaError> {
        gst_video::VideoFrameRef::from_buffer_ref_readable(self.buffer.as_ref(), &self.info)
            .map_err(|_| crate::MediaError::Map)
    }
}

type Waker = Arc<dyn Fn() + Send + Sync>;

/// A bounded latest-frame slot. Cheap to share (`Arc`).
#[derive(Default)]
pub struct FrameSlot {
    frame: Mutex<Option<Frame>>,
    waker: Mutex<Option<Waker>>,
    dropped: AtomicU64,
    taken: AtomicU64,
}

impl std::fmt::Debug for FrameSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameSlot")
            .field("dropped", &self.dropped())
            .field("taken", &self.taken())
            .finish_non_exhaustive()
    }
}

impl FrameSlot {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Puts a frame in, replacing (and counting as dropped) one nobody took, then wakes the
    /// consumer.
    pub fn put(&self, frame: Frame) {
        let replaced = self.frame.lock().replace(frame);
        if replaced.is_some() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        // The old frame's buffer goes back to the decoder's pool here, outside the lock.
        drop(replaced);
        let waker = self.waker.lock().clone();
        if let Some(waker) = waker {
            waker();
        }
    }

    /// Takes the newest frame, if one arrived since the last take.
    pub fn take(&self) -> Option<Frame> {
        let frame = self.frame.lock().take();
        if frame.is_some() {
            self.taken.fetch_add(1, Ordering::Relaxed);
        }
        frame
    }

    /// Calls `waker` (on the decoder's thread: keep it short) whenever a frame is put.
    /// Whether frame `sequence` waits in the slot, not yet taken.
    pub fn holds(&self, sequence: u64) -> bool {
        self.frame
            .lock()
            .as_ref()
            .is_some_and(|f| f.sequence == sequence)
    }

    pub fn set_waker(&self, waker: Option<Waker>) {
        *self.waker.lock() = waker;
    }

    /// Frames replaced before anyone took them.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Frames taken by the consumer.
    pub fn taken(&self) -> u64 {
        self.taken.load(Ordering::Relaxed)
    }

    /// Empties the slot (on teardown, so no buffer outlives its pipeline needlessly).
    pub(crate) fn clear(&self) {
        self.frame.lock().take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(sequence: u64) -> Frame {
        let info = gst_video::VideoInfo::builder(gst_video::VideoFormat::I420, 16, 16)
            .build()
            .expect("info");
        let buffer = gst::Buffer::with_size(info.size()).expect("buffer");
        Frame::new(buffer, info, sequence, Instant::now(), None)
    }

    #[test]
    fn keeps_only_the_newest_frame_and_counts_the_rest() {
        gst::init().expect("gst");
        let slot = FrameSlot::new();
        let woken = Arc::new(AtomicU64::new(0));
        let w = woken.clone();
        slot.set_waker(Some(Arc::new(move || {
            w.fetch_add(1, Ordering::Relaxed);
        })));
        assert!(slot.take().is_none());
        for n in 1..=3 {
            slot.put(frame(n));
        }
        assert_eq!(slot.take().map(|f| f.sequence), Some(3));
        assert!(slot.take().is_none());
        assert_eq!(slot.dropped(), 2);
        assert_eq!(slot.taken(), 1);
        assert_eq!(woken.load(Ordering::Relaxed), 3);
        slot.put(frame(4));
        slot.clear();
        assert!(slot.take().is_none());
    }
}
