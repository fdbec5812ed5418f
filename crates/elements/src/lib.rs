//! Which GStreamer elements Watchfloor creates, and which system package brings each.
//!
//! GStreamer finds its elements in plugin files that distributions split over several
//! packages, and a missing one shows only when a pipeline is built: `clockoverlay` lives in
//! Debian's `gstreamer1.0-x`, not in any `plugins-*` package. This crate owns that knowledge:
//!
//! - [`ELEMENTS`]: every element the simulator and the media engine create, with its plugin and
//!   the Debian and Fedora packages that ship it;
//! - [`require`]: the start-up check that fails naming each missing element and the package to
//!   install, instead of a bare "missing element" at the first client;
//! - its tests: the guard that the table agrees with the packages installed here (`dpkg -S`),
//!   that the code creates no element the table lacks, that the set-up list
//!   (`xtask/apt-packages.txt`) and the .deb and .rpm dependencies bring every package, and
//!   that a real simulator and real decoding load plugins from those packages only.
//!
//! It creates no element itself and knows nothing of the crates that do.

/// Whether Watchfloor works without an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Needed wherever Watchfloor runs: the set-up and the packages must bring it.
    Always,
    /// Used when present (hardware decoders), with a software fallback.
    WhenPresent,
}

/// Where Fedora users get a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FedoraRepo {
    /// Fedora itself: the .rpm can depend on it.
    Fedora,
    /// RPM Fusion (patent-encumbered codecs): documented, not a dependency of the .rpm.
    RpmFusion,
}

/// One element and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element {
    /// The factory name, as code passes it to GStreamer.
    pub name: &'static str,
    /// The plugin that registers it (`gst-inspect-1.0 NAME` shows it).
    pub plugin: &'static str,
    /// The Debian 12 / Ubuntu package shipping the plugin; `None` off Linux (VideoToolbox,
    /// Direct3D).
    pub debian: Option<&'static str>,
    /// The Fedora package shipping the plugin, and its repository.
    pub fedora: Option<(&'static str, FedoraRepo)>,
    pub need: Need,
}

const BASE: Option<&str> = Some("gstreamer1.0-plugins-base");
const GOOD: Option<&str> = Some("gstreamer1.0-plugins-good");
const BAD: Option<&str> = Some("gstreamer1.0-plugins-bad");
const F_BASE: Option<(&str, FedoraRepo)> = Some(("gstreamer1-plugins-base", FedoraRepo::Fedora));
const F_GOOD: Option<(&str, FedoraRepo)> = Some(("gstreamer1-plugins-good", FedoraRepo::Fedora));
const F_BAD: Option<(&str, FedoraRepo)> = Some(("gstreamer1-plugins-bad-free", FedoraRepo::Fedora));
const F_LIBAV: Option<(&str, FedoraRepo)> = Some(("gstreamer1-libav", FedoraRepo::RpmFusion));

const fn always(
    name: &'static str,
    plugin: &'static str,
    debian: Option<&'static str>,
    fedora: Option<(&'static str, FedoraRepo)>,
) -> Element {
    Element {
        name,
        plugin,
        debian,
        fedora,
        need: Need::Always,
    }
}

const fn when_present(
    name: &'static str,
    plugin: &'static str,
    debian: Option<&'static str>,
) -> Element {
    Element {
        name,
        plugin,
        debian,
        fedora: if debian.is_some() { F_BAD } else { None },
        need: Need::WhenPresent,
    }
}

/// Every element Watchfloor's code creates by name. Elements that these create inside
/// themselves (`rtpbin` in `rtspsrc`, `udpsrc` in the RTSP server) are not listed: the guard's
/// run of a real simulator and real decoding catches their plugins.
pub const ELEMENTS: &[Element] = &[
    // The simulator's cameras: a test picture, burned-in name and clock, a valve to stall,
    // an encoder and a payloader per codec.
    always("videotestsrc", "videotestsrc", BASE, F_BASE),
    always("textoverlay", "pango", Some("gstreamer1.0-x"), F_BASE),
    always("clockoverlay", "pango", Some("gstreamer1.0-x"), F_BASE),
    always(
        "valve",
        "coreelements",
        Some("libgstreamer1.0-0"),
        Some(("gstreamer1", FedoraRepo::Fedora)),
    ),
    always(
        "x264enc",
        "x264",
        Some("gstreamer1.0-plugins-ugly"),
        Some(("gstreamer1-plugins-ugly", FedoraRepo::RpmFusion)),
    ),
    always(
        "x265enc",
        "x265",
        BAD,
        Some(("gstreamer1-plugins-bad-freeworld", FedoraRepo::RpmFusion)),
    ),
    always("jpegenc", "jpeg", GOOD, F_GOOD),
    always("rtph264pay", "rtp", GOOD, F_GOOD),
    always("rtph265pay", "rtp", GOOD, F_GOOD),
    always("rtpjpegpay", "rtp", GOOD, F_GOOD),
    // The media engine: RTSP in, depayloaders, parsers, decoders, frames out.
    always("rtspsrc", "rtsp", GOOD, F_GOOD),
    always("rtph264depay", "rtp", GOOD, F_GOOD),
    always("rtph265depay", "rtp", GOOD, F_GOOD),
    always("rtpjpegdepay", "rtp", GOOD, F_GOOD),
    always("h264parse", "videoparsersbad", BAD, F_BAD),
    always("h265parse", "videoparsersbad", BAD, F_BAD),
    always("avdec_h264", "libav", Some("gstreamer1.0-libav"), F_LIBAV),
    always("avdec_h265", "libav", Some("gstreamer1.0-libav"), F_LIBAV),
    always("avdec_mjpeg", "libav", Some("gstreamer1.0-libav"), F_LIBAV),
    always("jpegdec", "jpeg", GOOD, F_GOOD),
    always("appsink", "app", BASE, F_BASE),
    // The recorder: segments of MP4 written on key frames, read back as one stream, and
    // exports remuxed into files.
    always("mp4mux", "isomp4", GOOD, F_GOOD),
    always("splitmuxsink", "multifile", GOOD, F_GOOD),
    always("splitmuxsrc", "multifile", GOOD, F_GOOD),
    // The recorder's ONVIF replay: each RTP packet stamped with its frame's capture time.
    always("rtponviftimestamp", "rtponvif", BAD, F_BAD),
    always(
        "filesink",
        "coreelements",
        Some("libgstreamer1.0-0"),
        Some(("gstreamer1", FedoraRepo::Fedora)),
    ),
    // The recorder's live restream: the recording split to viewers, each fed by an appsrc.
    always(
        "tee",
        "coreelements",
        Some("libgstreamer1.0-0"),
        Some(("gstreamer1", FedoraRepo::Fedora)),
    ),
    always(
        "queue",
        "coreelements",
        Some("libgstreamer1.0-0"),
        Some(("gstreamer1", FedoraRepo::Fedora)),
    ),
    always("appsrc", "app", BASE, F_BASE),
    // Hardware decoders, preferred when present.
    when_present("nvh264dec", "nvcodec", BAD),
    when_present("nvh265dec", "nvcodec", BAD),
    when_present("nvjpegdec", "nvcodec", BAD),
    when_present("vah264dec", "va", BAD),
    when_present("vah265dec", "va", BAD),
    when_present("vajpegdec", "va", BAD),
    when_present("vtdec_hw", "applemedia", None),
    when_present("d3d11h264dec", "d3d11", None),
    when_present("d3d11h265dec", "d3d11", None),
];

/// The table's entry for `name`.
pub fn lookup(name: &str) -> Option<&'static Element> {
    ELEMENTS.iter().find(|element| element.name == name)
}

/// What to install for `name`, in words for whoever reads the error: the packages on Debian
/// and Ubuntu, on Fedora, and the runtime elsewhere.
pub fn install_hint(name: &str) -> String {
    let Some(element) = lookup(name) else {
        return "install the GStreamer plugins as the README describes".to_owned();
    };
    let mut ways = Vec::new();
    if let Some(debian) = element.debian {
        ways.push(format!("`apt install {debian}` on Debian and Ubuntu"));
    }
    match element.fedora {
        Some((fedora, FedoraRepo::Fedora)) => {
            ways.push(format!("`dnf install {fedora}` on Fedora"));
        }
        Some((fedora, FedoraRepo::RpmFusion)) => {
            ways.push(format!("`dnf install {fedora}` (RPM Fusion) on Fedora"));
        }
        None => {}
    }
    ways.push("the complete GStreamer runtime on macOS and Windows".to_owned());
    format!("plugin `{}`: {}", element.plugin, ways.join(", "))
}

/// GStreamer elements that are not installed, each with what to install.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(.names))]
pub struct MissingElements {
    /// The factory names, in the order they were asked for.
    pub names: Vec<String>,
}

/// The missing elements grouped by what brings them, in the order they were asked for.
fn describe(names: &[String]) -> String {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for name in names {
        let hint = install_hint(name);
        match groups.iter_mut().find(|(h, _)| *h == hint) {
            Some((_, group)) => group.push(name),
            None => groups.push((hint, vec![name])),
        }
    }
    let each: Vec<String> = groups
        .iter()
        .map(|(hint, group)| {
            let named: Vec<String> = group.iter().map(|n| format!("`{n}`")).collect();
            format!("{} ({hint})", named.join(", "))
        })
        .collect();
    format!(
        "GStreamer element{} missing: {}",
        if names.len() == 1 { " is" } else { "s are" },
        each.join("; ")
    )
}

impl MissingElements {
    /// One missing element, found when a pipeline was built.
    pub fn one(name: &str) -> Self {
        Self {
            names: vec![name.to_owned()],
        }
    }
}

/// Fails naming every element of `names` that GStreamer cannot find, and the package that
/// brings each. GStreamer must be initialised. Looks the names up in the registry only: no
/// plugin is loaded.
pub fn require<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<(), MissingElements> {
    let mut missing: Vec<String> = Vec::new();
    for name in names {
        if gst::ElementFactory::find(name).is_none() && !missing.iter().any(|m| m == name) {
            missing.push(name.to_owned());
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(MissingElements { names: missing })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_element_is_listed_once() {
        for (index, element) in ELEMENTS.iter().enumerate() {
            assert!(
                ELEMENTS[index + 1..].iter().all(|e| e.name != element.name),
                "{} is listed twice",
                element.name
            );
        }
    }

    #[test]
    fn every_element_needed_everywhere_names_a_debian_and_a_fedora_package() {
        for element in ELEMENTS.iter().filter(|e| e.need == Need::Always) {
            assert!(element.debian.is_some(), "{}", element.name);
            assert!(element.fedora.is_some(), "{}", element.name);
        }
    }

    #[test]
    fn a_missing_element_names_the_package_to_install() {
        let error = MissingElements::one("clockoverlay").to_string();
        assert_eq!(
            error,
            "GStreamer element is missing: `clockoverlay` (plugin `pango`: `apt install \
             gstreamer1.0-x` on Debian and Ubuntu, `dnf install gstreamer1-plugins-base` on \
             Fedora, the complete GStreamer runtime on macOS and Windows)"
        );
    }

    #[test]
    fn elements_of_one_plugin_share_one_hint() {
        let error = MissingElements {
            names: vec!["textoverlay".into(), "clockoverlay".into()],
        }
        .to_string();
        assert!(
            error.starts_with(
                "GStreamer elements are missing: `textoverlay`, `clockoverlay` (plugin `pango`: \
                 `apt install gstreamer1.0-x`"
            ),
            "{error}"
        );
        assert_eq!(error.matches("apt install").count(), 1, "{error}");
    }

    #[test]
    fn several_missing_elements_are_named_together_and_unknown_ones_point_to_the_readme() {
        let error = MissingElements {
            names: vec!["avdec_h264".into(), "frobnicate".into()],
        }
        .to_string();
        assert!(error.starts_with("GStreamer elements are missing: `avdec_h264` (plugin `libav`: `apt install gstreamer1.0-libav`"), "{error}");
        assert!(
            error.contains("`dnf install gstreamer1-libav` (RPM Fusion)"),
            "{error}"
        );
        assert!(
            error.ends_with("`frobnicate` (install the GStreamer plugins as the README describes)"),
            "{error}"
        );
    }

    #[test]
    fn require_names_each_missing_element_once_in_order() {
        gst::init().expect("GStreamer initialises");
        let outcome = require([
            "no-such-element-b",
            "fakesink",
            "no-such-element-a",
            "no-such-element-b",
        ]);
        assert_eq!(
            outcome,
            Err(MissingElements {
                names: vec!["no-such-element-b".into(), "no-such-element-a".into()]
            })
        );
        assert_eq!(require(["fakesink", "identity"]), Ok(()));
    }
}
