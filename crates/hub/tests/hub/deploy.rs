//! The hub as IT deploys it: the systemd unit in `deploy/hub/` passes `systemd-analyze
//! verify`, and the real `watchfloor-hub` serves from the documented configuration file (only
//! the paths and the port changed to a scratch folder).

use crate::support::scratch;
use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy(file: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets it"))
        .join("../../deploy/hub")
        .join(file)
}

#[test]
fn the_systemd_unit_verifies() {
    testkit::verify_systemd_unit(
        &deploy("watchfloor-hub.service"),
        "/usr/bin/watchfloor-hub",
        env!("CARGO_BIN_EXE_watchfloor-hub"),
    );
}

/// The documented file with its paths moved into `dir` and the port set to `port`.
fn documented_config(dir: &Path, port: u16, cert: &Path, key: &Path) -> String {
    let text = std::fs::read_to_string(deploy("hub.toml")).expect("hub.toml");
    let replaced = text
        .replace("\"0.0.0.0:8443\"", &format!("\"127.0.0.1:{port}\""))
        .replace("/var/lib/watchfloor-hub", &dir.to_string_lossy())
        .replace("/etc/watchfloor/tls/hub.crt", &cert.to_string_lossy())
        .replace("/etc/watchfloor/tls/hub.key", &key.to_string_lossy())
        .replace(
            "/usr/share/watchfloor-hub/console",
            &dir.join("console").to_string_lossy(),
        );
    let settings = replaced
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter(|l| l.contains(&*dir.to_string_lossy()))
        .count();
    assert_eq!(
        settings, 5,
        "database, data_dir, console_dir, tls.cert and tls.key moved"
    );
    replaced
}

#[tokio::test]
async fn the_hub_serves_from_the_documented_configuration() {
    hub::serve::install_crypto();
    let dir = scratch("deploy");
    // A certificate as IT would install it (here a self-signed one, made by the hub's command).
    let (cert, key) = hub::serve::self_signed(&dir.join("issued")).expect("certificate");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let config = dir.join("hub.toml");
    std::fs::write(&config, documented_config(&dir, port, &cert, &key)).expect("config");
    std::fs::create_dir_all(dir.join("console")).expect("console folder");
    std::fs::write(dir.join("console/index.html"), "<title>Watchfloor</title>").expect("page");
    let (mut child, url) = crate::support::spawn_serving(
        Command::new(env!("CARGO_BIN_EXE_watchfloor-hub"))
            .args(["serve", "--config"])
            .arg(&config)
            .env_remove("WATCHFLOOR_HUB_DB")
            .env_remove("WATCHFLOOR_HUB_DATA")
            .env("RUST_LOG", "warn"),
    );
    assert_eq!(url, format!("https://127.0.0.1:{port}"));
    let pem = std::fs::read(&cert).expect("cert");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
        .build()
        .expect("client");
    let health: serde_json::Value = client
        .get(format!("https://127.0.0.1:{port}/api/v1/health"))
        .send()
        .await
        .expect("health over TLS with the configured certificate")
        .json()
        .await
        .expect("json");
    let page = client
        .get(format!("https://127.0.0.1:{port}/"))
        .send()
        .await
        .expect("the browser console");
    assert_eq!(page.status(), 200, "the console from console_dir");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        dir.join("hub.db").exists(),
        "the database where the file says: {health}"
    );
    assert!(dir.join("hub.key").exists(), "the key in data_dir");
}
