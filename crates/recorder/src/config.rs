//! The recorder's configuration file (TOML), read once at start. Every key is documented in
//! `docs/recorder.md`; what the file may not hold is as important: camera passwords live in
//! the sealed credential store ([`crate::credentials`]), never here.

pub use media::Transport;
use serde::Deserialize;
pub use site::StreamKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which of a camera's streams are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Record {
    /// The main (full resolution) stream: what evidence needs. The default.
    #[default]
    Main,
    Sub,
    Both,
}

impl Record {
    /// Whether `kind` is recorded under this choice.
    pub fn includes(self, kind: StreamKind) -> bool {
        matches!(
            (self, kind),
            (Record::Both, _) | (Record::Main, StreamKind::Main) | (Record::Sub, StreamKind::Sub)
        )
    }
}

/// Limits on what is kept: the oldest unlocked video goes first when one is passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub max_age: Option<Duration>,
    pub quota_bytes: Option<u64>,
}

/// One camera as the recorder sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraConfig {
    pub id: String,
    pub main: String,
    pub sub: Option<String>,
    pub record: Record,
    pub transport: Transport,
    pub limits: Limits,
    /// `None`: recorded continuously. Else kept only around events (the hub's events and
    /// alarms that name the camera): from `pre_roll` before to `post_roll` after each.
    pub events: Option<EventWindow>,
}

/// The video kept around an event of a camera recorded "around events".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventWindow {
    pub pre_roll: Duration,
    pub post_roll: Duration,
}

impl CameraConfig {
    /// The URL of one of the camera's streams, if it has that stream.
    pub fn url(&self, kind: StreamKind) -> Option<&str> {
        match kind {
            StreamKind::Main => Some(&self.main),
            StreamKind::Sub => self.sub.as_deref(),
        }
    }

    /// The streams this camera records.
    pub fn recorded(&self) -> impl Iterator<Item = StreamKind> + '_ {
        StreamKind::ALL
            .into_iter()
            .filter(|&k| self.record.includes(k) && self.url(k).is_some())
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// This recorder's name on the hub.
    pub id: String,
    /// Where the index, the keys, the sealed credentials and the video live.
    pub data_dir: PathBuf,
    /// Where the video goes, when not `data_dir/video`: a disk of its own, so that a full
    /// video disk never stops the index (nor the system).
    pub video_dir: Option<PathBuf>,
    /// The length of a segment (cut at the first key frame after it).
    pub segment: Duration,
    /// How long a camera may send nothing before it counts as offline.
    pub stall_timeout: Duration,
    /// The longest wait between two attempts to reach an offline camera.
    pub reconnect_max: Duration,
    /// Limits over all cameras together.
    pub limits: Limits,
    /// Space always left free on the video's file system.
    pub min_free_bytes: u64,
    /// How often retention runs (it also runs when a write fails for lack of space).
    pub retention_interval: Duration,
    /// How long video of cameras recorded around events is kept when no event is near it:
    /// long enough for the hub to tell of an event (a sync) and for the pre-roll.
    pub unmarked: Duration,
    /// The live restream, when configured.
    pub restream: Option<RestreamConfig>,
    /// Where the recorder reports to the hub, when configured.
    pub hub: Option<HubConfig>,
    pub cameras: Vec<CameraConfig>,
}

/// Where the restream serves, and whose tickets it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestreamConfig {
    pub host: String,
    pub port: u16,
    /// The hub's ticket key (Ed25519 public key, 64 hex digits): `watchfloor-hub ticket-key`.
    pub hub_key: String,
    /// Where recorded video is also served over HTTP (timeline and fragmented MP4), when set.
    pub http: Option<(String, u16)>,
}

/// How the recorder reports to the hub: through the signed webhook of an event source the IT
/// admin registered for it (`watchfloor-hub source-add`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubConfig {
    /// `https://host:port`.
    pub url: String,
    /// The site its cameras belong to.
    pub site: String,
    /// The event source's id.
    pub source: String,
    /// A file holding the source's secret (readable by the recorder only).
    pub secret_file: PathBuf,
    /// A PEM certificate to trust for the hub (its self-signed one), when not a public one.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// How often it syncs with the hub (its health out, the evidence locks in), as written.
    #[serde(default, rename = "sync_interval")]
    sync_interval_text: Option<String>,
    /// The same, read (30 s when not given).
    #[serde(skip)]
    pub sync_interval: Duration,
}

/// A configuration file that cannot be used, with the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    id: String,
    data_dir: PathBuf,
    #[serde(default)]
    video_dir: Option<PathBuf>,
    #[serde(default)]
    segment: Option<String>,
    #[serde(default)]
    stall_timeout: Option<String>,
    #[serde(default)]
    reconnect_max: Option<String>,
    #[serde(default)]
    retention: RetentionFile,
    #[serde(default)]
    cameras: Vec<CameraFile>,
    restream: Option<RestreamFile>,
    #[serde(default)]
    hub: Option<HubConfig>,
    /// What cameras record when they do not say.
    record: Option<Record>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RestreamFile {
    listen: String,
    hub_key: String,
    #[serde(default)]
    http_listen: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RetentionFile {
    max_age: Option<String>,
    quota: Option<String>,
    min_free: Option<String>,
    interval: Option<String>,
    unmarked: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CameraFile {
    id: String,
    main: String,
    sub: Option<String>,
    record: Option<Record>,
    transport: Option<String>,
    max_age: Option<String>,
    quota: Option<String>,
    /// "continuous" (the default) or "events".
    mode: Option<String>,
    pre_roll: Option<String>,
    post_roll: Option<String>,
}

impl Config {
    /// Reads and checks the file at `path`; a relative `data_dir` is taken from the file's
    /// folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut config = Self::parse(&text).map_err(|reason| ConfigError::Invalid {
            path: path.display().to_string(),
            reason,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        if config.data_dir.is_relative() {
            config.data_dir = base.join(&config.data_dir);
        }
        if let Some(video) = config.video_dir.as_mut()
            && video.is_relative()
        {
            *video = base.join(&*video);
        }
        Ok(config)
    }

    /// Reads a configuration from its text; the error names the key at fault.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        check_id("id", &file.id)?;
        let mut cameras: Vec<CameraConfig> = Vec::new();
        for camera in file.cameras {
            check_id("cameras.id", &camera.id)?;
            if cameras.iter().any(|c| c.id == camera.id) {
                return Err(format!("camera `{}` is configured twice", camera.id));
            }
            let key = |name: &str| format!("cameras.{name} of `{}`", camera.id);
            check_url(&key("main"), &camera.main)?;
            if let Some(sub) = &camera.sub {
                check_url(&key("sub"), sub)?;
            }
            let record = match camera.record {
                Some(record) if record != Record::Main && camera.sub.is_none() => {
                    return Err(format!(
                        "{}: records the sub-stream but none is configured",
                        key("record")
                    ));
                }
                Some(record) => record,
                // The recorder's default; a camera without a sub-stream records its main one.
                None => match file.record.unwrap_or_default() {
                    Record::Main => Record::Main,
                    _ if camera.sub.is_none() => Record::Main,
                    other => other,
                },
            };
            let transport = camera
                .transport
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| format!("{}: {e}", key("transport")))?
                .unwrap_or_default();
            let events = match camera.mode.as_deref() {
                None | Some("continuous") => {
                    if camera.pre_roll.is_some() || camera.post_roll.is_some() {
                        return Err(format!(
                            "{}: pre_roll and post_roll are for mode = \"events\"",
                            key("mode")
                        ));
                    }
                    None
                }
                Some("events") => {
                    let roll = |name: &str, text: Option<&str>, default: u64| {
                        let value =
                            duration(&key(name), text)?.unwrap_or(Duration::from_secs(default));
                        if value > Duration::from_secs(3600) {
                            return Err(format!("{}: at most 1h", key(name)));
                        }
                        Ok::<_, String>(value)
                    };
                    Some(EventWindow {
                        pre_roll: roll("pre_roll", camera.pre_roll.as_deref(), 10)?,
                        post_roll: roll("post_roll", camera.post_roll.as_deref(), 30)?,
                    })
                }
                Some(other) => {
                    return Err(format!(
                        "{}: `{other}` is neither \"continuous\" nor \"events\"",
                        key("mode")
                    ));
                }
            };
            cameras.push(CameraConfig {
                events,
                limits: Limits {
                    max_age: duration(&key("max_age"), camera.max_age.as_deref())?,
                    quota_bytes: camera
                        .quota
                        .as_deref()
                        .map(|q| size(&key("quota"), q))
                        .transpose()?,
                },
                id: camera.id,
                main: camera.main,
                sub: camera.sub,
                record,
                transport,
            });
        }
        let retention = file.retention;
        let bounded = |key: &str, value: Option<Duration>, min: Duration, max: Duration| match value
        {
            Some(v) if v < min || v > max => Err(format!(
                "{key}: must be between {} and {}",
                humantime::format_duration(min),
                humantime::format_duration(max)
            )),
            _ => Ok(value),
        };
        const YEAR: Duration = Duration::from_secs(365 * 86_400);
        let segment = bounded(
            "segment",
            duration("segment", file.segment.as_deref())?,
            Duration::from_secs(1),
            Duration::from_secs(600),
        )?;
        let stall_timeout = bounded(
            "stall_timeout",
            duration("stall_timeout", file.stall_timeout.as_deref())?,
            Duration::from_secs(1),
            Duration::from_secs(600),
        )?;
        let reconnect_max = bounded(
            "reconnect_max",
            duration("reconnect_max", file.reconnect_max.as_deref())?,
            Duration::from_millis(100),
            Duration::from_secs(600),
        )?;
        let max_age = bounded(
            "retention.max_age",
            duration("retention.max_age", retention.max_age.as_deref())?,
            Duration::from_secs(60),
            Duration::from_secs(100) * YEAR.as_secs() as u32,
        )?;
        for camera in &cameras {
            bounded(
                &format!("cameras.max_age of `{}`", camera.id),
                camera.limits.max_age,
                Duration::from_secs(60),
                Duration::from_secs(100) * YEAR.as_secs() as u32,
            )?;
            if camera.limits.quota_bytes.is_some_and(|q| q < 1 << 20) {
                return Err(format!("cameras.quota of `{}`: at least 1MiB", camera.id));
            }
        }
        let restream = file
            .restream
            .map(|r| {
                let address = |key: &str, text: &str| {
                    text.rsplit_once(':')
                        .and_then(|(h, p)| {
                            Some((
                                h.trim_matches(['[', ']']).to_owned(),
                                p.parse::<u16>().ok()?,
                            ))
                        })
                        .ok_or_else(|| format!("restream.{key}: `{text}` is not HOST:PORT"))
                };
                let (host, port) = address("listen", &r.listen)?;
                let http = r
                    .http_listen
                    .as_deref()
                    .map(|text| address("http_listen", text))
                    .transpose()?;
                let key = r.hub_key.trim().to_ascii_lowercase();
                if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err("restream.hub_key: the hub's ticket key is 64 hex digits \
                                (`watchfloor-hub ticket-key` prints it)"
                        .to_owned());
                }
                Ok(RestreamConfig {
                    host,
                    port,
                    hub_key: key,
                    http,
                })
            })
            .transpose()?;
        if let Some(hub) = &file.hub {
            check_id("hub.site", &hub.site)?;
            check_id("hub.source", &hub.source)?;
            let url = url::Url::parse(&hub.url).map_err(|e| format!("hub.url: {e}"))?;
            let loopback = match url.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                _ => false,
            };
            let fine = url.username().is_empty()
                && url.password().is_none()
                && (url.scheme() == "https" || (url.scheme() == "http" && loopback));
            if !fine {
                return Err(
                    "hub.url: an https:// address (http:// only to a loopback address)".into(),
                );
            }
        }
        let hub = match file.hub {
            Some(mut hub) => {
                hub.sync_interval = bounded(
                    "hub.sync_interval",
                    duration("hub.sync_interval", hub.sync_interval_text.as_deref())?,
                    Duration::from_millis(100),
                    Duration::from_secs(3600),
                )?
                .unwrap_or(Duration::from_secs(30));
                Some(hub)
            }
            None => None,
        };
        let unmarked = bounded(
            "retention.unmarked",
            duration("retention.unmarked", retention.unmarked.as_deref())?,
            Duration::from_secs(10),
            Duration::from_secs(86_400),
        )?;
        let config = Self {
            restream,
            hub,
            id: file.id,
            data_dir: file.data_dir,
            video_dir: file.video_dir,
            segment: segment.unwrap_or(Duration::from_secs(10)),
            stall_timeout: stall_timeout.unwrap_or(Duration::from_secs(5)),
            reconnect_max: reconnect_max.unwrap_or(Duration::from_secs(1)),
            limits: Limits {
                max_age,
                quota_bytes: retention
                    .quota
                    .as_deref()
                    .map(|q| size("retention.quota", q))
                    .transpose()?,
            },
            min_free_bytes: retention
                .min_free
                .as_deref()
                .map(|q| size("retention.min_free", q))
                .transpose()?
                .unwrap_or(1 << 30),
            retention_interval: duration("retention.interval", retention.interval.as_deref())?
                .unwrap_or(Duration::from_secs(60)),
            unmarked: unmarked.unwrap_or(Duration::from_secs(600)),
            cameras,
        };
        if config.limits.quota_bytes.is_some_and(|q| q < 1 << 20) {
            return Err("retention.quota: at least 1MiB".into());
        }
        // Cameras recorded around events hear of events from the hub, often enough, and keep
        // their video long enough for an event to be heard of and its pre-roll kept.
        if let Some(longest) = config
            .cameras
            .iter()
            .filter_map(|c| c.events.map(|w| w.pre_roll))
            .max()
        {
            let Some(hub) = &config.hub else {
                return Err(
                    "cameras.mode = \"events\" needs a [hub] table: events come from the hub"
                        .into(),
                );
            };
            if hub.sync_interval > Duration::from_secs(300) {
                return Err(
                    "hub.sync_interval: at most 5m with cameras recorded around events".into(),
                );
            }
            let needed = hub.sync_interval + longest + Duration::from_secs(10);
            if config.unmarked < needed {
                return Err(format!(
                    "retention.unmarked: at least {} (the sync's interval, the longest pre_roll \
                     and 10s) with cameras recorded around events",
                    humantime::format_duration(needed)
                ));
            }
        }
        Ok(config)
    }

    /// The configured camera `id`.
    pub fn camera(&self, id: &str) -> Option<&CameraConfig> {
        self.cameras.iter().find(|c| c.id == id)
    }

    /// The index database.
    pub fn index_path(&self) -> PathBuf {
        self.data_dir.join("index.db")
    }

    /// The folder of one stream's segments.
    pub fn video_dir(&self) -> PathBuf {
        self.video_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("video"))
    }
}

/// Ids become folder names and URL parts: letters, digits, `-`, `_` and `.`, not starting
/// with a dot.
fn check_id(key: &str, id: &str) -> Result<(), String> {
    let fine = !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if fine {
        Ok(())
    } else {
        Err(format!(
            "{key}: `{id}` must be 1 to 64 letters, digits, `-`, `_` or `.`, not starting with `.`"
        ))
    }
}

/// A camera URL: `rtsp://` or `rtsps://`, and never with a password in it.
fn check_url(key: &str, text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| format!("{key}: not a URL ({e})"))?;
    if !matches!(url.scheme(), "rtsp" | "rtsps") {
        return Err(format!("{key}: must be an rtsp:// or rtsps:// URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{key}: holds a user name or password; store credentials with \
             `watchfloor-recorder credentials set` instead"
        ));
    }
    Ok(())
}

fn duration(key: &str, text: Option<&str>) -> Result<Option<Duration>, String> {
    text.map(|t| {
        humantime::parse_duration(t)
            .map_err(|e| format!("{key}: `{t}` is not a duration like `30d` or `10s` ({e})"))
    })
    .transpose()
}

/// A size like `500GiB`, `2 GB`, `750MiB` or a plain number of bytes.
pub fn size(key: &str, text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{key}: `{text}` is not a size like `500GiB`"))?;
    let scale: f64 = match unit.trim() {
        "" | "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("{key}: unknown unit `{other}` in `{text}`")),
    };
    Ok((number * scale).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
        id = "rec-1"
        data_dir = "/var/lib/watchfloor-recorder"
        segment = "4s"
        [retention]
        max_age = "30d"
        quota = "500GiB"
        min_free = "2GB"
        [[cameras]]
        id = "cam-01"
        main = "rtsp://10.0.0.5/main"
        sub = "rtsp://10.0.0.5/sub"
        record = "both"
        max_age = "7d"
        quota = "50 GiB"
        [[cameras]]
        id = "cam-02"
        main = "rtsps://10.0.0.6/main"
    "#;

    #[test]
    fn the_example_reads_key_by_key() {
        let config = Config::parse(EXAMPLE).expect("parses");
        assert_eq!(config.segment, Duration::from_secs(4));
        assert_eq!(config.stall_timeout, Duration::from_secs(5));
        assert_eq!(config.limits.quota_bytes, Some(500 << 30));
        assert_eq!(config.min_free_bytes, 2_000_000_000);
        let cam = config.camera("cam-01").expect("cam-01");
        assert_eq!(cam.limits.max_age, Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(cam.limits.quota_bytes, Some(50 << 30));
        assert_eq!(
            cam.recorded().collect::<Vec<_>>(),
            vec![StreamKind::Main, StreamKind::Sub]
        );
        let other = config.camera("cam-02").expect("cam-02");
        assert_eq!(other.recorded().collect::<Vec<_>>(), vec![StreamKind::Main]);
        assert_eq!(other.transport, Transport::Tcp);
    }

    #[test]
    fn bad_files_name_the_key_at_fault() {
        let cases = [
            (
                EXAMPLE.replace("rtsp://10.0.0.5/main", "rtsp://admin:secret@10.0.0.5/main"),
                "cameras.main of `cam-01`: holds a user name or password",
            ),
            (
                EXAMPLE.replace("rtsps://10.0.0.6/main", "http://10.0.0.6/"),
                "must be an rtsp:// or rtsps:// URL",
            ),
            (EXAMPLE.replace("\"30d\"", "\"soon\""), "retention.max_age"),
            (
                EXAMPLE.replace("\"30d\"", "\"0s\""),
                "retention.max_age: must be between",
            ),
            (
                EXAMPLE.replace("\"4s\"", "\"0s\""),
                "segment: must be between",
            ),
            (
                EXAMPLE.replace("\"500GiB\"", "\"10\""),
                "retention.quota: at least",
            ),
            (EXAMPLE.replace("\"500GiB\"", "\"lots\""), "retention.quota"),
            (EXAMPLE.replace("cam-02", "cam-01"), "configured twice"),
            (EXAMPLE.replace("cam-02", "../etc"), "cameras.id"),
            (
                EXAMPLE.replace("segment = \"4s\"", "segmnt = \"4s\""),
                "unknown field",
            ),
        ];
        for (text, expected) in cases {
            let error = Config::parse(&text).expect_err(expected);
            assert!(error.contains(expected), "{error} should say {expected}");
        }
        let camera = |extra: &str| {
            format!(
                "id = \"r\"\ndata_dir = \"d\"\n[[cameras]]\nid = \"c\"\nmain = \"rtsp://h/m\"\n{extra}\n"
            )
        };
        let hub = "[hub]\nurl = \"https://hub.example.org\"\nsite = \"s\"\nsource = \"r\"\n\
                   secret_file = \"f\"";
        let around = Config::parse(&camera(&format!(
            "mode = \"events\"\npre_roll = \"5s\"\n{hub}"
        )))
        .expect("events");
        assert_eq!(
            around.cameras[0].events,
            Some(EventWindow {
                pre_roll: Duration::from_secs(5),
                post_roll: Duration::from_secs(30)
            })
        );
        assert_eq!(around.unmarked, Duration::from_secs(600));
        for (extra, expected) in [
            ("mode = \"sometimes\"", "neither"),
            ("pre_roll = \"5s\"", "are for mode = \"events\""),
            ("mode = \"events\"\npost_roll = \"2h\"", "at most 1h"),
            ("mode = \"events\"", "needs a [hub] table"),
        ] {
            let error = Config::parse(&camera(extra)).expect_err(expected);
            assert!(error.contains(expected), "{error} should say {expected}");
        }
        let sub_only = "id = \"r\"\ndata_dir = \"d\"\n[[cameras]]\nid = \"c\"\nmain = \"rtsp://h/m\"\nrecord = \"sub\"\n";
        assert!(
            Config::parse(sub_only)
                .expect_err("no sub")
                .contains("none is configured")
        );
    }
}
