//! What the user asked for, per stream: where, how, and how patiently. Kept apart from the
//! run-time state in [`crate::stream`].

use std::time::Duration;

/// RTSP credentials. Never printed: `Debug` redacts the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Credentials fetched afresh before each connection attempt: a recorder's stream ticket,
/// good for a couple of minutes, is asked of the hub again at every reconnect. Called on the
/// stream's own thread (never an async runtime's); an error is retried with backoff.
#[derive(Clone)]
pub struct CredentialSource(
    pub std::sync::Arc<dyn Fn() -> Result<Credentials, String> + Send + Sync>,
);

impl std::fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialSource(..)")
    }
}

/// How RTP travels from the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// Interleaved in the RTSP connection: survives firewalls and NAT, notices a dead camera at
    /// once. The default, as in most VMS clients.
    #[default]
    Tcp,
    Udp,
}

impl std::str::FromStr for Transport {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tcp" => Ok(Transport::Tcp),
            "udp" => Ok(Transport::Udp),
            other => Err(format!("unknown transport `{other}` (tcp or udp)")),
        }
    }
}

/// Exponential backoff between reconnects: `initial`, doubling, capped at `max`, each delay
/// spread by +-`jitter` (a fraction) so that many cameras do not retry in step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(2),
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// The delay before reconnect attempt `attempt` (1 for the first), given a uniform random
    /// number `unit` in [0, 1).
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(20);
        let base = self.initial.saturating_mul(1u32 << doublings).min(self.max);
        let spread = 1.0 + self.jitter * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
        base.mul_f64(spread.max(0.0))
    }
}

/// Which decoder to use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DecoderChoice {
    /// The best present: hardware first (NVIDIA, VA-API, VideoToolbox, Direct3D 11), then
    /// software (libav, libjpeg).
    #[default]
    Auto,
    /// This GStreamer element, by factory name (`avdec_h264`, `nvh264dec`, ...).
    Named(String),
}

/// Recorded video instead of live: the stream is an ONVIF replay (Profile G) of a recording,
/// shown from an instant on.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The instant to show first, Unix µs. The URL names it (`?from=<µs>`, Watchfloor's
    /// recorder: `rtspsrc` sends no `Range` of its own choosing with its first `PLAY`); the
    /// frame at or before it (the one on screen at that instant) is the first shown, those
    /// before it (from the key frame before) are decoded, not shown. A reconnect goes on after
    /// the last frame shown.
    pub from_us: i64,
    /// Replays that share a clock show the same instant: the recorder sends as fast as the
    /// stream reads (`Rate-Control: no`), and each frame waits for the clock to reach its
    /// capture time. Without one, the recorder paces at real time.
    pub clock: Option<crate::PlaybackClock>,
}

/// Everything that decides how one stream is opened and kept alive.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// `rtsp://host:port/path`, without credentials (they go in `credentials`).
    pub url: String,
    /// A label for logs and health, usually the camera's name.
    pub label: String,
    pub credentials: Option<Credentials>,
    /// When set, asked for the credentials before each connection (they win over
    /// `credentials`).
    pub credential_source: Option<CredentialSource>,
    pub transport: Transport,
    /// RTP jitter buffer size; small for live viewing.
    pub latency: Duration,
    pub decoder: DecoderChoice,
    /// Decoder threads (libav); one per stream scales best across dozens of streams.
    pub decoder_threads: u32,
    /// No frame for this long while live means stalled, and the stream is rebuilt.
    pub stall_timeout: Duration,
    /// How long a connection attempt may take to deliver its first frame.
    pub connect_timeout: Duration,
    pub backoff: Backoff,
    /// After an authentication failure, wait this long before trying again (no retry storm).
    pub auth_retry: Duration,
    /// Recorded video from an instant, instead of live.
    pub replay: Option<Replay>,
}

impl StreamSettings {
    /// Settings for `url`. Credentials written into the URL (`rtsp://user:pass@host/...`) are
    /// moved out of it into [`StreamSettings::credentials`], so the URL is safe to print.
    pub fn new(url: impl Into<String>) -> Self {
        let (url, credentials) = split_userinfo(url.into());
        Self {
            label: crate::redact::redact_url(&url),
            url,
            credentials,
            credential_source: None,
            transport: Transport::Tcp,
            latency: Duration::from_millis(50),
            decoder: DecoderChoice::Auto,
            decoder_threads: 1,
            stall_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(6),
            backoff: Backoff::default(),
            auth_retry: Duration::from_secs(60),
            replay: None,
        }
    }

    /// The same stream's recording from `from_us` (Unix µs) on. A replay that has shown
    /// everything recorded (or asks for what is still being written) waits for the recorder's
    /// next segment: it is stalled, or its connection given up, only after `REPLAY_STALL`.
    pub fn replay_from(mut self, from_us: i64) -> Self {
        self.replay = Some(Replay {
            from_us,
            clock: None,
        });
        // The instant may be in the segment still being written: its first frame comes when
        // the segment closes.
        self.stall_timeout = self.stall_timeout.max(REPLAY_STALL);
        self.connect_timeout = self.connect_timeout.max(REPLAY_STALL);
        self
    }
}

impl StreamSettings {
    /// A replay paced by `clock` (set [`StreamSettings::replay_from`] first): it shows what
    /// the clock says, with the other replays it paces.
    pub fn paced_by(mut self, clock: crate::PlaybackClock) -> Self {
        if let Some(replay) = &mut self.replay {
            replay.clock = Some(clock);
        }
        self
    }
}

/// How long a replay may go without a frame: a recorder's segment (10 s by default) and some.
pub const REPLAY_STALL: Duration = Duration::from_secs(16);

/// Splits `user:pass@` off a URL, percent-decoded.
fn split_userinfo(url: String) -> (String, Option<Credentials>) {
    let Ok(mut parsed) = url::Url::parse(&url) else {
        return (url, None);
    };
    if parsed.username().is_empty() && parsed.password().is_none() {
        return (url, None);
    }
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let credentials = Credentials {
        user: decode(parsed.username()),
        password: decode(parsed.password().unwrap_or("")),
    };
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    (parsed.to_string(), Some(credentials))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_with_bounded_jitter() {
        let b = Backoff::default();
        assert_eq!(b.delay(1, 0.5), Duration::from_millis(250));
        assert_eq!(b.delay(2, 0.5), Duration::from_millis(500));
        assert_eq!(b.delay(3, 0.5), Duration::from_millis(1000));
        assert_eq!(b.delay(4, 0.5), Duration::from_millis(2000));
        assert_eq!(b.delay(40, 0.5), Duration::from_millis(2000));
        assert_eq!(b.delay(1, 0.0), Duration::from_millis(200));
        assert_eq!(b.delay(1, 1.0), Duration::from_millis(300));
    }

    #[test]
    fn credentials_never_print_the_password() {
        let c = Credentials {
            user: "admin".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        let mut s = StreamSettings::new("rtsp://cam/x");
        s.credentials = Some(c);
        assert!(!format!("{s:?}").contains("hunter2"));
        // Credentials in the URL move out of it.
        let inline = StreamSettings::new("rtsp://admin:it%27s%40home@cam:554/x");
        assert_eq!(inline.url, "rtsp://cam:554/x");
        assert_eq!(
            inline.credentials,
            Some(Credentials {
                user: "admin".into(),
                password: "it's@home".into()
            })
        );
        assert!(!format!("{inline:?}").contains("home"));
    }
}
