//! The guard that no GStreamer plugin package goes missing again: every element the code
//! creates is in the table, the table agrees with the packages installed here, and the set-up
//! list (`xtask/apt-packages.txt`) and the .deb's and .rpm's dependencies
//! (`src-tauri/tauri.conf.json`) bring every package. A real simulator and real decoding then
//! show that nothing else is loaded: elements that others create inside themselves (`rtpbin`,
//! `udpsrc`) are caught by the plugins they load.
//!
//! Needs dpkg (Debian, Ubuntu), as the set-up does: on other Linux systems it fails saying
//! so; on macOS and Windows, where GStreamer comes as one runtime, it is not built.
#![cfg(target_os = "linux")]

use elements::{ELEMENTS, FedoraRepo, Need};
use media::{DecoderChoice, EngineSettings, MediaEngine, StreamSettings, StreamState};
use sim::{Sim, SimConfig, StreamKind};
use site::{Codec, Site};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The repository root, found at run time (clones share one build folder).
fn repository() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    Path::new(&manifest)
        .ancestors()
        .nth(2)
        .expect("crates/elements sits two levels down")
        .to_path_buf()
}

/// The packages `cargo xtask setup` installs.
fn setup_packages() -> BTreeSet<String> {
    let path = repository().join("xtask/apt-packages.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `bundle.linux.<format>.depends` of the app's Tauri configuration.
fn package_depends(format: &str) -> BTreeSet<String> {
    let path = repository().join("src-tauri/tauri.conf.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let config: serde_json::Value = serde_json::from_str(&text).expect("tauri.conf.json is JSON");
    config["bundle"]["linux"][format]["depends"]
        .as_array()
        .unwrap_or_else(|| panic!("no bundle.linux.{format}.depends"))
        .iter()
        .map(|name| name.as_str().expect("package names are strings").to_owned())
        .collect()
}

/// The Debian package that installed `file`, as `dpkg -S` says. GStreamer may name a plugin
/// by `/lib/...`, which merged-/usr systems link to `/usr/lib/...`, where dpkg knows it.
fn package_of(file: &Path) -> Result<String, String> {
    let file = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    let output = Command::new("dpkg")
        .arg("-S")
        .arg(&file)
        .output()
        .map_err(|e| format!("this guard needs dpkg (Debian, Ubuntu): {e}"))?;
    let said = String::from_utf8_lossy(&output.stdout);
    let first = said.lines().next().unwrap_or_default();
    match first.split_once(':') {
        Some((package, _)) if output.status.success() => Ok(package.to_owned()),
        _ => Err(format!(
            "no package owns {}: {}",
            file.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )),
    }
}

/// The plugin file that registers `element`, when it is installed.
fn plugin_file(element: &str) -> Option<PathBuf> {
    use gst::prelude::*;
    gst::ElementFactory::find(element)?.plugin()?.filename()
}

fn init() {
    gst::init().expect("GStreamer initialises");
}

#[test]
fn every_element_comes_from_the_package_the_table_names() {
    init();
    let mut wrong = Vec::new();
    for element in ELEMENTS {
        let Some(debian) = element.debian else {
            continue; // macOS or Windows only.
        };
        let Some(file) = plugin_file(element.name) else {
            if element.need == Need::Always {
                wrong.push(format!("{} is not installed here", element.name));
            }
            continue;
        };
        match package_of(&file) {
            Ok(package) if package == debian => {}
            Ok(package) => wrong.push(format!(
                "{} comes from {package} ({}), the table says {debian}",
                element.name,
                file.display()
            )),
            Err(error) => wrong.push(format!("{}: {error}", element.name)),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_code_creates_exactly_the_elements_the_table_knows() {
    let simulator = Codec::ALL
        .into_iter()
        .flat_map(sim::cameras::stream_elements);
    let created: BTreeSet<&str> = simulator
        .chain(media::created_elements())
        .chain(recorder::created_elements())
        .collect();
    let known: BTreeSet<&str> = ELEMENTS.iter().map(|e| e.name).collect();
    let unknown: Vec<_> = created.difference(&known).collect();
    assert!(
        unknown.is_empty(),
        "created but not in the table: {unknown:?}"
    );
    let stale: Vec<_> = known.difference(&created).collect();
    assert!(
        stale.is_empty(),
        "in the table but created by nobody: {stale:?}"
    );
}

#[test]
fn the_setup_and_both_packages_bring_every_package_an_element_needs() {
    let (setup, deb, rpm) = (
        setup_packages(),
        package_depends("deb"),
        package_depends("rpm"),
    );
    let mut missing = Vec::new();
    for element in ELEMENTS.iter().filter(|e| e.need == Need::Always) {
        let debian = element
            .debian
            .expect("needed elements name a Debian package");
        if !setup.contains(debian) {
            missing.push(format!(
                "{debian} ({}) is not in xtask/apt-packages.txt",
                element.name
            ));
        }
        if !deb.contains(debian) {
            missing.push(format!(
                "{debian} ({}) is not a dependency of the .deb",
                element.name
            ));
        }
        match element.fedora {
            Some((fedora, FedoraRepo::Fedora)) if !rpm.contains(fedora) => {
                missing.push(format!(
                    "{fedora} ({}) is not a dependency of the .rpm",
                    element.name
                ));
            }
            _ => {}
        }
    }
    missing.dedup();
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// Elements the real site creates that the table leaves out: GStreamer's own bins, and what
/// `rtspsrc` and gst-rtsp-server make inside themselves. Their plugins are checked all the
/// same (the real site loads them). A GStreamer release that makes a new one inside fails the
/// guard until it is named here.
const NOT_IN_THE_TABLE: &[&str] = &[
    // GStreamer's core: bins, pipelines and caps filters of launch lines.
    "bin",
    "pipeline",
    "capsfilter",
    // Inside rtspsrc and the RTSP server: the RTP session machinery and its transports.
    "rtpbin",
    "rtpsession",
    "rtpssrcdemux",
    "rtpjitterbuffer",
    "rtpptdemux",
    "rtpstorage",
    "rtprtxreceive",
    "rtprtxsend",
    "rtspreal",
    "rtspwms",
    "udpsrc",
    "udpsink",
    "multiudpsink",
    "appsrc",
    "funnel",
    "queue",
    "tee",
    "fakesrc",
    "fakesink",
];

/// Every element GStreamer creates through its element factories, as they say they do
/// (`creating element "NAME"` on the `GST_ELEMENT_FACTORY` debug category): launch lines and
/// elements made inside others. The media engine's own elements (made by gstreamer-rs,
/// which bypasses that message) are read from its live pipelines.
fn record_created_elements() -> std::sync::Arc<std::sync::Mutex<BTreeSet<String>>> {
    let created = std::sync::Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let sink = created.clone();
    // Only this function hears it: GStreamer's own logger would print every line.
    gst::log::remove_default_log_function();
    gst::log::set_threshold_for_name("GST_ELEMENT_FACTORY", gst::DebugLevel::Info);
    gst::log::add_log_function(move |category, _, _, _, _, _, message| {
        if category.name() != "GST_ELEMENT_FACTORY" {
            return;
        }
        let Some(text) = message.get() else {
            return;
        };
        if let Some(rest) = text.as_str().strip_prefix("creating element \"")
            && let Some((name, _)) = rest.split_once('"')
            && let Ok(mut created) = sink.lock()
        {
            created.insert(name.to_owned());
        }
    });
    created
}

/// Starts a real simulated site with one camera per codec, decodes each camera's stream, and
/// returns the plugin files GStreamer loaded on the way and the elements it created.
fn what_a_real_site_loads_and_creates() -> (BTreeSet<PathBuf>, BTreeSet<String>) {
    let created = record_created_elements();
    let sim = Sim::start(
        SimConfig::quiet(Site::with_one_camera_per_codec()),
        Vec::new(),
    )
    .expect("the simulator starts");
    let engine = MediaEngine::new(EngineSettings::default()).expect("the media engine starts");
    // The software decoders by name: a machine with a hardware decoder would otherwise use it,
    // and the guard is about what every installation needs.
    let streams: Vec<_> = [
        ("cam01", "avdec_h264"),
        ("cam02", "avdec_h265"),
        ("cam03", "jpegdec"),
    ]
    .iter()
    .map(|(camera, decoder)| {
        let mut settings = StreamSettings::new(sim.cameras().url(camera, StreamKind::Sub));
        settings.label = (*camera).to_owned();
        settings.decoder = DecoderChoice::Named((*decoder).to_owned());
        engine.open(settings).expect("the stream opens")
    })
    .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline
        && !streams
            .iter()
            .all(|s| s.health().state == StreamState::Live && s.health().frames >= 5)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    for stream in &streams {
        let health = stream.health();
        assert!(
            health.state == StreamState::Live && health.frames >= 5,
            "{:?} never decoded: {health:?}",
            stream.health().codec
        );
    }
    let made_by_the_engine = media::live_elements();
    drop(streams);
    drop(sim);
    let loaded = gst::Registry::get()
        .plugins()
        .into_iter()
        .filter(|plugin| plugin.is_loaded())
        .filter_map(|plugin| plugin.filename())
        .collect();
    let mut created = created.lock().map(|c| c.clone()).unwrap_or_default();
    created.extend(made_by_the_engine);
    (loaded, created)
}

#[test]
fn a_real_site_and_real_decoding_create_only_known_elements_from_packages_the_setup_and_the_deb_bring()
 {
    init();
    let (loaded, created) = what_a_real_site_loads_and_creates();
    println!("created: {created:?}");
    for ours in [
        "rtspsrc",
        "x264enc",
        "x265enc",
        "jpegenc",
        "clockoverlay",
        "avdec_h264",
        "avdec_h265",
        "jpegdec",
    ] {
        assert!(
            created.contains(ours),
            "{ours} was not seen created: {created:?}"
        );
    }
    let unknown: Vec<&String> = created
        .iter()
        .filter(|name| elements::lookup(name).is_none())
        .filter(|name| !NOT_IN_THE_TABLE.contains(&name.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "elements created that are neither in elements::ELEMENTS nor in NOT_IN_THE_TABLE: \
         {unknown:?}"
    );
    let (setup, deb) = (setup_packages(), package_depends("deb"));
    let mut by_package: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for file in &loaded {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match package_of(file) {
            Ok(package) => by_package.entry(package).or_default().push(name),
            Err(error) => wrong.push(error),
        }
    }
    for (package, plugins) in &by_package {
        println!("{package}: {}", plugins.join(" "));
        if !setup.contains(package) {
            wrong.push(format!(
                "{package} ({plugins:?}) is not in xtask/apt-packages.txt"
            ));
        }
        if !deb.contains(package) {
            wrong.push(format!(
                "{package} ({plugins:?}) is not a dependency of the .deb"
            ));
        }
    }
    assert!(
        loaded.iter().any(|f| f.to_string_lossy().contains("pango")),
        "the simulator's overlays loaded no pango plugin: {loaded:?}"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
