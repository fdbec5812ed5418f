//! The recorder against the simulator's real RTSP cameras (behind digest passwords), real
//! GStreamer recording and real decoding of what was recorded.

mod support;

mod crash;
mod deploy;
mod export;
mod http;
mod outage;
mod recording;
mod replay;
mod restream;
mod storage;
