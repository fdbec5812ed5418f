//! The hub killed with SIGKILL in the middle of a write burst restarts with an intact database
//! in which every write it acknowledged is present.

use crate::on_both;
use crate::support::{
    Backend, SITE, TestHub, database, door_event, first_door, post_signed, scratch,
};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn hub_command(db: &str, data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_watchfloor-hub"));
    command
        .env("WATCHFLOOR_HUB_DB", db)
        .env("WATCHFLOOR_HUB_DATA", data)
        .env("RUST_LOG", "warn");
    command
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("watchfloor-hub runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Starts `watchfloor-hub serve` and returns it with the URL it printed.
fn serve(db: &str, data: &Path) -> (Child, String) {
    crate::support::spawn_serving(hub_command(db, data).args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--insecure-http",
    ]))
}

async fn killed_mid_burst_loses_no_acknowledged_write(backend: Backend) {
    hub::serve::install_crypto();
    let db = database(backend);
    let data = scratch("kill");
    run(hub_command(&db, &data)
        .args(["site-import", "--site"])
        .arg(site::demo_site_path()));
    let secret_file = data.join("source.secret");
    run(hub_command(&db, &data)
        .args([
            "source-add",
            "--id",
            "burst",
            "--site",
            SITE,
            "--secret-file",
        ])
        .arg(&secret_file));
    let secret = std::fs::read(&secret_file).expect("secret");
    let (mut child, url) = serve(&db, &data);
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let door = first_door();
    let mut writers = Vec::new();
    for writer in 0..4 {
        let (url, secret, door, acknowledged) = (
            url.clone(),
            secret.clone(),
            door.clone(),
            acknowledged.clone(),
        );
        writers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for n in 0.. {
                let id = format!("kill-{writer}-{n}");
                let event = door_event(&id, &door, "DoorPhysicalState", "Open");
                let (status, answer) = post_signed(&http, &url, "burst", &secret, &event).await;
                if status != 200 {
                    return;
                }
                if answer["results"][0]["status"] == "accepted" {
                    acknowledged.lock().expect("lock").push(id);
                }
            }
        }));
    }
    // Let the burst run, then kill the hub without warning.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    for writer in writers {
        writer.await.expect("writer");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() > 20,
        "the burst got going: {}",
        acknowledged.len()
    );

    // Restart: the database opens, is sound, and holds every acknowledged event.
    let (mut child, url) = serve(&db, &data);
    let health: Value = reqwest::get(format!("{url}/api/v1/health"))
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(health["status"], "ok");
    let reopened = hub::db::Db::open(&db, &hub::SystemClock)
        .await
        .expect("open");
    assert_eq!(reopened.integrity_check().await.expect("check"), "ok");
    let mut missing = Vec::new();
    for id in &acknowledged {
        let found = sqlx::query("SELECT id FROM events WHERE site_id = $1 AND id = $2")
            .bind(SITE)
            .bind(id)
            .fetch_optional(reopened.pool())
            .await
            .expect("query");
        if found.is_none() {
            missing.push(id.clone());
        }
    }
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    // The change feed has no gap across the crash.
    let changes = reopened.changes_after(0, 100_000).await.expect("changes");
    for (i, change) in changes.iter().enumerate() {
        assert_eq!(change.seq, i as i64 + 1, "change numbers run without a gap");
    }
    reopened.close().await;
    child.kill().expect("stop");
    let _ = child.wait();
}
on_both!(killed_mid_burst_loses_no_acknowledged_write);

/// A second hub started on a database that a hub serves refuses to start (each numbers its
/// changes and audit lines itself: two would corrupt both); once the first stops, one starts.
async fn a_second_hub_on_the_same_database_refuses_to_start(backend: Backend) {
    let database = database(backend);
    let first = TestHub::start_on(backend, database.clone()).await;
    let config = || hub::serve::ServeConfig {
        database: database.clone(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        data_dir: scratch("second-hub"),
        tls: hub::serve::Tls::Off,
        cors_origins: Vec::new(),
        mqtt: None,
        console: None,
        edge: Default::default(),
    };
    let clock: hub::SharedClock = std::sync::Arc::new(hub::SystemClock);
    let refused = hub::serve::start(config(), clock.clone()).await;
    let Err(error) = refused else {
        panic!("the second hub is refused")
    };
    assert!(error.to_string().contains("another hub"), "{error}");
    first.login("guard").await;
    first.running.stop().await;
    let next = hub::serve::start(config(), clock)
        .await
        .expect("a hub starts once the first stopped");
    next.stop().await;
}
on_both!(a_second_hub_on_the_same_database_refuses_to_start);
