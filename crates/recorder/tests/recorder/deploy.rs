//! The recorder as IT deploys it: the documented configuration file reads as documented, and
//! the systemd unit passes `systemd-analyze verify`.

use recorder::config::{Config, Record, StreamKind};
use std::path::PathBuf;
use std::time::Duration;

fn deploy(file: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets it"))
        .join("../../deploy/recorder")
        .join(file)
}

#[test]
fn the_documented_configuration_reads_as_documented() {
    let config = Config::load(&deploy("recorder.toml")).expect("the example reads");
    assert_eq!(config.id, "recorder-1");
    assert_eq!(
        config.data_dir,
        PathBuf::from("/var/lib/watchfloor-recorder")
    );
    assert_eq!(config.video_dir(), PathBuf::from("/srv/watchfloor-video"));
    assert_eq!(config.segment, Duration::from_secs(10));
    assert_eq!(config.limits.quota_bytes, Some(2 << 40));
    assert_eq!(config.min_free_bytes, 20 << 30);
    let gate = config.camera("car-park-gate").expect("camera");
    assert_eq!(gate.record, Record::Main);
    assert_eq!(gate.limits.max_age, Some(Duration::from_secs(90 * 86_400)));
    assert_eq!(
        config
            .camera("lobby-entrance")
            .expect("camera")
            .url(StreamKind::Sub),
        Some("rtsp://10.20.0.11:554/Streaming/Channels/102")
    );
    // Every key the file sets is documented in docs/recorder.md.
    let docs = std::fs::read_to_string(deploy("../../docs/recorder.md")).expect("docs");
    let text = std::fs::read_to_string(deploy("recorder.toml")).expect("file");
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(" = "))
    {
        let key = line.split(" = ").next().unwrap_or_default().trim();
        assert!(
            docs.contains(&format!("`{key}`")),
            "docs/recorder.md documents `{key}`"
        );
    }
}

#[test]
fn the_systemd_unit_verifies() {
    testkit::verify_systemd_unit(
        &deploy("watchfloor-recorder.service"),
        "/usr/bin/watchfloor-recorder",
        env!("CARGO_BIN_EXE_watchfloor-recorder"),
    );
}
