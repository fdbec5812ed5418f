//! The site description: what a site is made of, as the simulator serves it and the hub and the
//! demo load it. Plain data plus validation; no IO beyond reading the file it is asked to load.
//!
//! Coordinates on a floor plan are in the plan's own units (its SVG `viewBox`), origin top-left.
//! Directions are degrees clockwise from the plan's "up".

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// A whole site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub floors: Vec<Floor>,
    #[serde(default)]
    pub zones: Vec<Zone>,
    #[serde(default)]
    pub cameras: Vec<Camera>,
    #[serde(default)]
    pub doors: Vec<Door>,
}

/// A floor and its plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Floor {
    pub id: String,
    pub name: String,
    /// The floor plan image, relative to the site file.
    pub plan: PathBuf,
    /// The plan's size in plan units.
    pub width: f64,
    pub height: f64,
}

/// A zone: an area of one floor, for occupancy and rights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    pub id: String,
    pub name: String,
    pub floor: String,
    /// The zone's outline on the plan.
    pub outline: Vec<[f64; 2]>,
}

/// A camera: where it is, where it looks, and the streams it serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Camera {
    pub id: String,
    pub name: String,
    pub floor: String,
    pub position: [f64; 2],
    /// Viewing direction, degrees clockwise from up.
    pub direction_deg: f64,
    /// Horizontal field of view, degrees.
    #[serde(default = "default_fov")]
    pub fov_deg: f64,
    #[serde(default = "StreamSpec::main_default")]
    pub main: StreamSpec,
    #[serde(default = "StreamSpec::sub_default")]
    pub sub: StreamSpec,
}

fn default_fov() -> f64 {
    70.0
}

/// A door: where it is, its zone, and the cameras that watch it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Door {
    pub id: String,
    pub name: String,
    pub floor: String,
    pub zone: String,
    pub position: [f64; 2],
    #[serde(default)]
    pub cameras: Vec<String>,
}

/// A video codec a simulated camera can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    H264,
    H265,
    Mjpeg,
}

impl Codec {
    /// Every codec a simulated camera can serve.
    pub const ALL: [Codec; 3] = [Codec::H264, Codec::H265, Codec::Mjpeg];
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Codec::H264 => "h264",
            Codec::H265 => "h265",
            Codec::Mjpeg => "mjpeg",
        })
    }
}

impl std::str::FromStr for Codec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "h264" | "avc" => Ok(Codec::H264),
            "h265" | "hevc" => Ok(Codec::H265),
            "mjpeg" | "jpeg" => Ok(Codec::Mjpeg),
            other => Err(format!("unknown codec `{other}` (h264, h265 or mjpeg)")),
        }
    }
}

/// How one stream of a camera is encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSpec {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    #[serde(default = "default_codec")]
    pub codec: Codec,
    /// Frames between key frames.
    #[serde(default = "default_gop")]
    pub gop: u32,
    #[serde(default = "default_bitrate")]
    pub bitrate_kbps: u32,
    /// B-frames between references (H.264 / H.265 only).
    #[serde(default)]
    pub b_frames: u32,
}

fn default_codec() -> Codec {
    Codec::H264
}
fn default_gop() -> u32 {
    30
}
fn default_bitrate() -> u32 {
    1000
}

impl StreamSpec {
    /// A real camera's usual main stream: 1280x720 at 25 fps.
    pub fn main_default() -> Self {
        Self {
            width: 1280,
            height: 720,
            fps: 25,
            codec: Codec::H264,
            gop: 50,
            bitrate_kbps: 2500,
            b_frames: 0,
        }
    }

    /// A real camera's usual sub-stream: 640x360 at 15 fps.
    pub fn sub_default() -> Self {
        Self {
            width: 640,
            height: 360,
            fps: 15,
            codec: Codec::H264,
            gop: 30,
            bitrate_kbps: 600,
            b_frames: 0,
        }
    }

    fn validate(&self, what: &str) -> Result<(), SiteError> {
        let bad = |reason: &str| Err(SiteError::Invalid(format!("{what}: {reason}")));
        if !(16..=7680).contains(&self.width) || !(16..=4320).contains(&self.height) {
            return bad("size must be between 16x16 and 7680x4320");
        }
        if !self.width.is_multiple_of(2) || !self.height.is_multiple_of(2) {
            return bad("width and height must be even");
        }
        if !(1..=120).contains(&self.fps) {
            return bad("fps must be 1 to 120");
        }
        if self.gop == 0 || self.bitrate_kbps == 0 {
            return bad("gop and bitrate_kbps must be positive");
        }
        if self.b_frames > 4 {
            return bad("at most 4 b_frames");
        }
        Ok(())
    }
}

/// Which of a camera's two streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamKind {
    Main,
    Sub,
}

impl StreamKind {
    pub const ALL: [StreamKind; 2] = [StreamKind::Main, StreamKind::Sub];

    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Main => "main",
            StreamKind::Sub => "sub",
        }
    }

    /// From [`StreamKind::as_str`]'s names.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Why a site could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("cannot read site file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("site file {path} is not a valid site: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("invalid site: {0}")]
    Invalid(String),
}

impl Site {
    /// Loads and validates a site file; floor plan paths are made absolute against the file.
    pub fn load(path: &Path) -> Result<Self, SiteError> {
        let text = std::fs::read_to_string(path).map_err(|source| SiteError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut site: Site = serde_json::from_str(&text).map_err(|source| SiteError::Parse {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for floor in &mut site.floors {
            if floor.plan.is_relative() {
                floor.plan = base.join(&floor.plan);
            }
        }
        site.validate()?;
        Ok(site)
    }

    /// A site of `count` cameras named `cam01`.. with default streams, no floors and no doors.
    pub fn with_cameras(count: usize) -> Self {
        Self {
            id: "sim".into(),
            name: "Simulated site".into(),
            floors: Vec::new(),
            zones: Vec::new(),
            cameras: (1..=count)
                .map(|n| Camera {
                    id: format!("cam{n:02}"),
                    name: format!("Camera {n}"),
                    floor: String::new(),
                    position: [0.0, 0.0],
                    direction_deg: 0.0,
                    fov_deg: default_fov(),
                    main: StreamSpec::main_default(),
                    sub: StreamSpec::sub_default(),
                })
                .collect(),
            doors: Vec::new(),
        }
    }

    /// A site of one camera per codec (`cam01` H.264, `cam02` H.265, `cam03` MJPEG on their
    /// sub-streams), otherwise like [`Site::with_cameras`].
    pub fn with_one_camera_per_codec() -> Self {
        let mut site = Self::with_cameras(Codec::ALL.len());
        for (camera, codec) in site.cameras.iter_mut().zip(Codec::ALL) {
            camera.sub.codec = codec;
        }
        site
    }

    /// Checks ids are unique and well formed, references resolve, and streams are sane.
    pub fn validate(&self) -> Result<(), SiteError> {
        let invalid = |m: String| Err(SiteError::Invalid(m));
        let mut ids = HashSet::new();
        let all_ids = self
            .floors
            .iter()
            .map(|f| &f.id)
            .chain(self.zones.iter().map(|z| &z.id))
            .chain(self.cameras.iter().map(|c| &c.id))
            .chain(self.doors.iter().map(|d| &d.id));
        for id in all_ids {
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return invalid(format!("id `{id}` must be ASCII letters, digits, - or _"));
            }
            if !ids.insert(id.as_str()) {
                return invalid(format!("id `{id}` is used twice"));
            }
        }
        let floor_known = |f: &str| {
            f.is_empty() && self.floors.is_empty() || self.floors.iter().any(|x| x.id == f)
        };
        for zone in &self.zones {
            if !floor_known(&zone.floor) {
                return invalid(format!(
                    "zone {} is on unknown floor {}",
                    zone.id, zone.floor
                ));
            }
        }
        for camera in &self.cameras {
            if !floor_known(&camera.floor) {
                return invalid(format!(
                    "camera {} is on unknown floor {}",
                    camera.id, camera.floor
                ));
            }
            camera
                .main
                .validate(&format!("camera {} main stream", camera.id))?;
            camera
                .sub
                .validate(&format!("camera {} sub-stream", camera.id))?;
        }
        for door in &self.doors {
            if !floor_known(&door.floor) {
                return invalid(format!(
                    "door {} is on unknown floor {}",
                    door.id, door.floor
                ));
            }
            if !self.zones.iter().any(|z| z.id == door.zone) {
                return invalid(format!("door {} is in unknown zone {}", door.id, door.zone));
            }
            if let Some(c) = door
                .cameras
                .iter()
                .find(|c| !self.cameras.iter().any(|x| &x.id == *c))
            {
                return invalid(format!("door {} is watched by unknown camera {c}", door.id));
            }
        }
        Ok(())
    }

    /// The cameras that watch `door`.
    pub fn cameras_watching(&self, door: &str) -> impl Iterator<Item = &Camera> {
        let ids: Vec<&String> = self
            .doors
            .iter()
            .filter(|d| d.id == door)
            .flat_map(|d| d.cameras.iter())
            .collect();
        self.cameras.iter().filter(move |c| ids.contains(&&c.id))
    }
}

/// The demo site shipped with the repository.
///
/// Found from where cargo runs (its `CARGO_MANIFEST_DIR` at run time, then the working folder)
/// before the path compiled in: a build folder shared between clones keeps the path of the
/// clone that compiled this crate, which may be gone.
pub fn demo_site_path() -> PathBuf {
    let relative = Path::new("crates/site/demo/site.json");
    let starts = [
        std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
        std::env::current_dir().ok(),
    ];
    starts
        .into_iter()
        .flatten()
        .flat_map(|start| {
            start
                .ancestors()
                .map(|a| a.join(relative))
                .collect::<Vec<_>>()
        })
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/site.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_site_is_a_two_floor_building_of_16_cameras_8_doors_4_zones() {
        let site = Site::load(&demo_site_path()).expect("demo site loads");
        assert_eq!(site.floors.len(), 2);
        assert_eq!(site.cameras.len(), 16);
        assert_eq!(site.doors.len(), 8);
        assert_eq!(site.zones.len(), 4);
        for floor in &site.floors {
            let svg = std::fs::read_to_string(&floor.plan).expect("plan exists");
            assert!(svg.contains("<svg"), "{} is an SVG", floor.plan.display());
        }
        for door in &site.doors {
            assert!(
                site.cameras_watching(&door.id).count() >= 1,
                "{} is watched",
                door.id
            );
        }
    }

    #[test]
    fn bad_references_are_reported_by_name() {
        let mut site = Site::load(&demo_site_path()).expect("demo site loads");
        site.doors[0].cameras.push("nowhere".into());
        let err = site.validate().expect_err("unknown camera");
        assert!(err.to_string().contains("nowhere"), "{err}");

        let mut site = Site::with_cameras(2);
        site.cameras[1].id = "cam01".into();
        assert!(
            site.validate()
                .expect_err("dup")
                .to_string()
                .contains("twice")
        );

        let mut site = Site::with_cameras(1);
        site.cameras[0].sub.width = 641;
        assert!(
            site.validate()
                .expect_err("odd")
                .to_string()
                .contains("even")
        );
    }

    #[test]
    fn unknown_fields_and_bad_json_are_errors_not_panics() {
        let dir = std::env::temp_dir().join(format!("site-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let path = dir.join("site.json");
        std::fs::write(&path, r#"{"id":"a","name":"b","cameras":[],"colour":1}"#).expect("write");
        assert!(matches!(Site::load(&path), Err(SiteError::Parse { .. })));
        std::fs::write(&path, "{").expect("write");
        assert!(matches!(Site::load(&path), Err(SiteError::Parse { .. })));
        assert!(matches!(
            Site::load(&dir.join("missing.json")),
            Err(SiteError::Read { .. })
        ));
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}
