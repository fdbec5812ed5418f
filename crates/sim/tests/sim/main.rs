//! The `watchfloor-sim` binary as a user runs it: its listing, its control API, its door events.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Running {
    child: Child,
    listing: serde_json::Value,
    control: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_watchfloor-sim"))
        .args(["--json", "--rtsp-port", "0", "--control-port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("simulator starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("listing");
    let listing: serde_json::Value = serde_json::from_str(&line).expect("listing is JSON");
    let control = listing["control"]
        .as_str()
        .expect("control URL")
        .trim_start_matches("http://")
        .to_owned();
    Running {
        child,
        listing,
        control,
    }
}

/// A plain HTTP/1.1 request; returns the status code and the JSON body.
fn http(address: &str, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

fn demo_site() -> String {
    site::demo_site_path().display().to_string()
}

#[test]
fn the_demo_site_lists_16_cameras_with_main_and_sub_streams_and_8_doors() {
    let sim = start(&["--site", &demo_site()]);
    let cameras = sim.listing["cameras"].as_array().expect("cameras");
    assert_eq!(cameras.len(), 16);
    assert_eq!(sim.listing["doors"].as_array().expect("doors").len(), 8);
    let port = sim.listing["rtsp_port"].as_u64().expect("port");
    for camera in cameras {
        let streams = camera["streams"].as_array().expect("streams");
        assert_eq!(streams.len(), 2);
        let (main, sub) = (&streams[0], &streams[1]);
        assert_eq!(
            (
                main["width"].as_u64(),
                main["height"].as_u64(),
                main["fps"].as_u64()
            ),
            (Some(1280), Some(720), Some(25))
        );
        assert_eq!(
            (
                sub["width"].as_u64(),
                sub["height"].as_u64(),
                sub["fps"].as_u64()
            ),
            (Some(640), Some(360), Some(15))
        );
        let url = sub["url"].as_str().expect("url");
        assert!(
            url.starts_with(&format!("rtsp://127.0.0.1:{port}/")),
            "{url}"
        );
    }
}

#[test]
fn faults_are_applied_and_bad_requests_get_a_clear_4xx() {
    let sim = start(&["--cameras", "2"]);
    let (status, body) = http(&sim.control, "POST", "/api/v1/cameras/cam02/stall", "");
    assert_eq!(status, 200);
    assert_eq!(body["stalled"], true);
    let (status, body) = http(
        &sim.control,
        "POST",
        "/api/v1/cameras/cam02/corrupt?per_mille=50",
        "",
    );
    assert_eq!(
        (status, body["corrupt_per_mille"].as_u64()),
        (200, Some(50))
    );

    let (status, body) = http(&sim.control, "POST", "/api/v1/cameras/cam09/stop", "");
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_camera"))
    );
    let (status, body) = http(&sim.control, "POST", "/api/v1/cameras/cam01/explode", "");
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")));
    let (status, _) = http(
        &sim.control,
        "POST",
        "/api/v1/cameras/cam01/corrupt?per_mille=2000",
        "",
    );
    assert_eq!(status, 400);
    let (status, _) = http(&sim.control, "POST", "/api/v1/doors/commands", "{not json");
    assert!((400..500).contains(&status), "{status}");
}

#[test]
fn door_commands_produce_onvif_events_in_the_event_file() {
    let dir = std::env::temp_dir().join(format!("sim-events-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let events = dir.join("events.jsonl");
    let sim = start(&[
        "--site",
        &demo_site(),
        "--events",
        events.to_str().expect("path"),
        "--swipes-per-minute",
        "0",
        "--forced-per-hour",
        "0",
    ]);
    let (status, body) = http(
        &sim.control,
        "POST",
        "/api/v1/doors/commands",
        r#"{"command":"force-open","door":"door03"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(
        &sim.control,
        "POST",
        "/api/v1/doors/commands",
        r#"{"command":"momentary-unlock","door":"door05"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let (status, doors) = http(&sim.control, "GET", "/api/v1/doors", "");
    assert_eq!(status, 200);
    let door03 = doors
        .as_array()
        .and_then(|d| d.iter().find(|d| d["id"] == "door03"))
        .expect("door03");
    assert_eq!(door03["alarm"], "DoorForcedOpen");
    assert_eq!(door03["door"], "Open");

    let (status, _) = http(
        &sim.control,
        "POST",
        "/api/v1/doors/commands",
        r#"{"command":"momentary-unlock","door":"door99"}"#,
    );
    assert_eq!(status, 404);

    let start = Instant::now();
    let lines = loop {
        let text = std::fs::read_to_string(&events).unwrap_or_default();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        if lines
            .iter()
            .any(|e| e["type"] == "DoorPhysicalState" && e["door"] == "door05")
            || start.elapsed() > Duration::from_secs(5)
        {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let alarm = lines
        .iter()
        .find(|e| e["type"] == "DoorAlarm")
        .expect("a DoorAlarm event");
    assert_eq!(alarm["state"], "DoorForcedOpen");
    assert_eq!(alarm["topic"], "tns1:Door/State/DoorAlarm");
    assert_eq!(alarm["door"], "door03");
    assert_eq!(alarm["site"], "demo-hq");
    assert!(lines.iter().any(|e| e["type"] == "DoorPhysicalState"
        && e["door"] == "door05"
        && e["state"] == "Open"));
    drop(sim);
    std::fs::remove_dir_all(&dir).expect("clean");
}

#[test]
fn bad_arguments_fail_with_a_clear_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_watchfloor-sim"))
        .args([
            "--auth",
            "no-colon",
            "--rtsp-port",
            "0",
            "--control-port",
            "0",
        ])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("USER:PASS"), "{stderr}");

    let output = Command::new(env!("CARGO_BIN_EXE_watchfloor-sim"))
        .args(["--site", "/nonexistent/site.json"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read site file"));
}

/// A GStreamer plugin folder with every plugin of this machine's but `left_out`, and a
/// registry file of its own, so GStreamer in a child process sees a system without it.
#[cfg(target_os = "linux")]
fn plugins_without(left_out: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    use gst::prelude::*;
    gst::init().expect("GStreamer initialises");
    let system = gst::ElementFactory::find("videotestsrc")
        .and_then(|f| f.plugin())
        .and_then(|p| p.filename())
        .and_then(|f| f.parent().map(std::path::Path::to_path_buf))
        .expect("the system plugin folder");
    let dir = std::env::temp_dir().join(format!("watchfloor-plugins-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugin folder");
    for entry in std::fs::read_dir(&system)
        .expect("system plugins")
        .flatten()
    {
        if entry.file_name() != left_out {
            std::os::unix::fs::symlink(entry.path(), plugins.join(entry.file_name()))
                .expect("link a plugin");
        }
    }
    (dir.clone(), plugins)
}

#[cfg(target_os = "linux")]
#[test]
fn a_missing_overlay_plugin_is_named_with_the_package_to_install_at_start() {
    let (dir, plugins) = plugins_without("libgstpango.so");
    let output = Command::new(env!("CARGO_BIN_EXE_watchfloor-sim"))
        .args(["--cameras", "1", "--rtsp-port", "0", "--control-port", "0"])
        .env("GST_PLUGIN_SYSTEM_PATH_1_0", &plugins)
        .env("GST_PLUGIN_PATH_1_0", "")
        .env("GST_REGISTRY_1_0", dir.join("registry.bin"))
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!output.status.success(), "it started without clockoverlay");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "GStreamer elements are missing: `textoverlay`, `clockoverlay` (plugin `pango`: \
             `apt install gstreamer1.0-x` on Debian and Ubuntu"
        ),
        "{stderr}"
    );
}
