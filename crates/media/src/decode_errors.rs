//! Counting decode errors that decoders only log. libav conceals a corrupt slice and logs
//! "error while decoding MB" without flagging the frame; `GstVideoDecoder` logs its errors as
//! warnings when `max-errors` lets it carry on. Both are caught here from GStreamer's log and
//! charged to the stream whose decoder thread logged them (decoders run one thread per stream).
//!
//! Only the categories we count are raised to the levels we need; GStreamer's own stderr
//! output stays as `GST_DEBUG` says.

use crate::health::Counters;
use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Once, Weak};

/// The decoder thread's stream, and whether the buffer it decodes has had an error yet.
struct Current {
    counters: Weak<Counters>,
    buffer_failed: bool,
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

/// Hooks the GStreamer log once per process.
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let quiet = std::env::var_os("GST_DEBUG").is_none();
        if quiet {
            // Without GST_DEBUG nothing would print, and raising thresholds below would make
            // the default handler print every concealed macroblock to stderr.
            gst::log::remove_default_log_function();
        }
        gst::log::add_log_function(
            |category, level, _file, _function, _line, _object, message| {
                let counts = match category.name() {
                    "libav" => level <= gst::DebugLevel::Error,
                    "videodecoder" => {
                        level <= gst::DebugLevel::Warning
                            && message.get().is_some_and(|m| m.starts_with("error"))
                    }
                    _ => false,
                };
                if counts {
                    CURRENT.with(|current| {
                        if let Some(current) = current.borrow_mut().as_mut()
                            && !current.buffer_failed
                        {
                            current.buffer_failed = true;
                            if let Some(counters) = current.counters.upgrade() {
                                counters.decode_errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    });
                }
            },
        );
    });
}

/// Raises the thresholds of the categories we count. Plugins register their categories when
/// they load, so this runs each time a decoder is made.
pub(crate) fn raise_thresholds() {
    for (name, level) in [
        ("libav", gst::DebugLevel::Error),
        ("videodecoder", gst::DebugLevel::Warning),
    ] {
        if let Some(category) = gst::DebugCategory::get(name)
            && category.threshold() < level
        {
            category.set_threshold(level);
        }
    }
}

/// Called on the decoder's streaming thread for every buffer it is about to decode.
pub(crate) fn decoding_for(counters: &Arc<Counters>) {
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        match current.as_mut() {
            Some(c) if std::ptr::eq(c.counters.as_ptr(), Arc::as_ptr(counters)) => {
                c.buffer_failed = false;
            }
            _ => {
                *current = Some(Current {
                    counters: Arc::downgrade(counters),
                    buffer_failed: false,
                });
            }
        }
    });
}
