//! The app core against a real hub (in this process, over TLS with its self-signed
//! certificate, on SQLite) serving the demo site whose streams a real simulator serves:
//! sign-in with "remember me" (keyring-core's mock store), the camera tree, walls kept in the
//! profile across a restart, layouts saved on the hub and opened again, and the live link
//! going from online to reconnecting when the hub stops and back when it returns.

use app::connection::Link;
use app::core::WriteOutcome;
use app::error::ErrorCode;
use app::keychain::Keychain;
use app::profile::Profile;
use app::{AppEvent, Core, Events, SignIn};
use hub::model::Role;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";
/// What the guard changes their password to.
const NEW_PASSWORD: &str = "a new password nobody wrote down";

#[derive(Default)]
struct Collected(Mutex<Vec<AppEvent>>);

impl Events for Collected {
    fn emit(&self, event: AppEvent) {
        self.0.lock().expect("events").push(event);
    }
}

impl Collected {
    fn link(&self) -> Option<Link> {
        self.0
            .lock()
            .expect("events")
            .iter()
            .rev()
            .find_map(|e| match e {
                AppEvent::Connection { state } => Some(state.link),
                _ => None,
            })
    }
}

fn scratch(name: &str) -> PathBuf {
    testkit::scratch(&format!("core-{name}"))
}

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The hub's address as the app writes it (no trailing slash).
fn running_url(running: &hub::serve::RunningHub) -> String {
    running.url.trim_end_matches('/').to_owned()
}

/// A hub over TLS on `data` with the demo site (streams from a real simulator whose doors post
/// to the hub through the signed webhook) and a guard.
async fn demo_hub(data: &std::path::Path) -> (hub::serve::RunningHub, sim::Sim) {
    let site = testsite::DemoHub::builder(testsite::tls_config(
        data,
        "127.0.0.1:0".parse().expect("addr"),
    ))
    .user("guard", PASSWORD, testsite::SITE, Role::Guard)
    .simulator()
    .start()
    .await;
    (site.running, site.sim.expect("the simulator"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_urgent_alarm_raised_before_sign_in_goes_up_on_the_wall_and_comes_down_when_closed() {
    let data = scratch("alarm-hub");
    let (running, sim) = demo_hub(&data).await;
    let hub = running.hub.clone();
    sim.door_command(&sim::DoorCommand::ForceOpen {
        door: "door02".into(),
    })
    .expect("force");
    let session = hub.login("guard", PASSWORD, "test").await.expect("login");
    let caller = hub.authenticate(&session.token).await.expect("caller");
    let mut alarm = None;
    until("the forced-open alarm on the hub", || {
        alarm = futures_executor_alarm(&hub, &caller);
        alarm.is_some()
    })
    .await;
    let alarm = alarm.expect("alarm");

    let events = Arc::new(Collected::default());
    let core = Core::new(
        Profile::open(scratch("alarm-profile")).expect("profile"),
        Err(app::keychain::KeychainError::Unavailable(
            "not in this test".into(),
        )),
        events.clone(),
    );
    core.sign_in(SignIn {
        hub: running.url.clone(),
        username: "guard".into(),
        password: Some(PASSWORD.into()),
        remember: false,
        ca_file: running.certificate.clone(),
    })
    .await
    .expect("signed in");
    // door02's first camera (cam04) takes the wall's alarm tile, the last of the 4x4.
    until("the alarm's camera on the alarm tile", || {
        core.walls()
            .first()
            .is_some_and(|w| w.flashing == [15] && w.state.cameras[15].as_deref() == Some("cam04"))
    })
    .await;
    let refused = core
        .hub_write(
            "POST",
            &format!("/alarms/{alarm}/close"),
            serde_json::json!({"request_id": "close-1", "comment": "false alarm"}),
        )
        .await
        .expect_err("a guard may not close alarms");
    assert_eq!(refused.code, ErrorCode::HubForbidden, "{}", refused.message);
    let acknowledged = core
        .hub_write(
            "POST",
            &format!("/alarms/{alarm}/acknowledge"),
            serde_json::json!({"request_id": "ack-1", "comment": "patrol sent"}),
        )
        .await
        .expect("acknowledged");
    assert!(
        matches!(acknowledged, WriteOutcome::Delivered { .. }),
        "{acknowledged:?}"
    );
    until("the flashing stopped", || {
        core.walls().first().is_some_and(|w| w.flashing.is_empty())
    })
    .await;
    assert!(
        core.outbox().expect("outbox").items.is_empty(),
        "a write refused at once is answered, not kept"
    );
    running.stop().await;
}

/// The forced-open alarm's id, once the hub has raised it.
fn futures_executor_alarm(
    hub: &Arc<hub::store::Hub>,
    caller: &hub::model::Caller,
) -> Option<String> {
    let alarms = tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(hub.list_alarms(
            caller,
            hub::model::AlarmFilter {
                site: Some("demo-hq".into()),
                state: Some("new".into()),
                ..Default::default()
            },
        ))
    })
    .ok()?;
    alarms
        .into_iter()
        .find(|a| a.rule == "door-forced-open")
        .map(|a| a.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_writes_wait_in_the_outbox_while_the_hub_is_away_and_arrive_once() {
    let data = scratch("outbox-hub");
    let (running, _sim) = demo_hub(&data).await;
    let (address, certificate, url) = (
        running.addr,
        running.certificate.clone().expect("self-signed"),
        running.url.clone(),
    );
    let events = Arc::new(Collected::default());
    let core = Core::new(
        Profile::open(scratch("outbox-profile")).expect("profile"),
        Err(app::keychain::KeychainError::Unavailable(
            "not in this test".into(),
        )),
        events.clone(),
    );
    core.sign_in(SignIn {
        hub: url,
        username: "guard".into(),
        password: Some(PASSWORD.into()),
        remember: false,
        ca_file: Some(certificate),
    })
    .await
    .expect("signed in");
    until("online", || events.link() == Some(Link::Online)).await;

    // Online, a write goes straight through the outbox to the hub.
    let made = core
        .hub_write(
            "POST",
            "/incidents",
            serde_json::json!({"id": "inc-core-1", "site": "demo-hq", "title": "Tailgating"}),
        )
        .await
        .expect("incident");
    let WriteOutcome::Delivered { value } = made else {
        panic!("delivered at once: {made:?}");
    };
    assert_eq!(value["id"], "inc-core-1");
    let refused = core
        .hub_write("PUT", "/settings", serde_json::json!({}))
        .await
        .expect_err("not a console write");
    assert_eq!(refused.code, ErrorCode::BadInput);

    // The hub goes away: notes wait, in order; a door command is refused, not queued.
    running.stop().await;
    until("reconnecting", || events.link() == Some(Link::Reconnecting)).await;
    for (id, text) in [("n-1", "first"), ("n-2", "second")] {
        let queued = core
            .hub_write(
                "POST",
                "/incidents/inc-core-1/notes",
                serde_json::json!({"id": id, "text": text}),
            )
            .await
            .expect("queued");
        assert!(matches!(queued, WriteOutcome::Queued { .. }), "{queued:?}");
    }
    let door = core
        .hub_write(
            "POST",
            "/sites/demo-hq/doors/door01/commands",
            serde_json::json!({"request_id": "r-1", "command": "momentary-unlock"}),
        )
        .await
        .expect_err("door commands need the hub");
    assert_eq!(door.code, ErrorCode::Offline);
    // Nor is a password change: its body would rest in the outbox's file.
    let change_password = || {
        core.hub_write(
            "PUT",
            "/me/password",
            serde_json::json!({"current": PASSWORD, "password": NEW_PASSWORD}),
        )
    };
    let changed = change_password()
        .await
        .expect_err("account changes need the hub");
    assert_eq!(changed.code, ErrorCode::Offline);
    assert_eq!(core.outbox().expect("outbox").items.len(), 2);
    // Whether the new password is in any file of the app's profile.
    let password_on_disk = || {
        std::fs::read_dir(core.profile().dir())
            .expect("the profile")
            .flatten()
            .filter_map(|f| std::fs::read(f.path()).ok())
            .any(|bytes| {
                bytes
                    .windows(NEW_PASSWORD.len())
                    .any(|w| w == NEW_PASSWORD.as_bytes())
            })
    };
    assert!(!password_on_disk(), "a password written to the profile");

    // Back: both arrive, in order, once.
    let again = hub::serve::start(
        testsite::tls_config(&data, address),
        Arc::new(hub::SystemClock),
    )
    .await
    .expect("hub again");
    until("the outbox emptied", || {
        core.outbox().is_ok_and(|o| o.items.is_empty())
    })
    .await;
    core.deliver_outbox().await;
    let hub = &again.hub;
    let session = hub.login("guard", PASSWORD, "test").await.expect("login");
    let caller = hub.authenticate(&session.token).await.expect("caller");
    let detail = hub.incident(&caller, "inc-core-1").await.expect("incident");
    let texts: Vec<&str> = detail.notes.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(texts, ["first", "second"]);

    // A crash after the hub took a note but before the outbox forgot it: the note goes again
    // on the next pass, and the hub, knowing its id, keeps one.
    let outbox = app::outbox::Outbox::open(&core.profile().dir().join("outbox.sqlite"))
        .expect("the profile's outbox");
    outbox
        .push(&app::outbox::OutboxItem {
            id: "out-replayed".into(),
            hub: running_url(&again),
            username: "guard".into(),
            method: "POST".into(),
            path: "/incidents/inc-core-1/notes".into(),
            body: serde_json::json!({"id": "n-1", "text": "first"}),
            summary: "Note on incident inc-core-1".into(),
            created_ms: 0,
            attempts: 0,
            last_error: None,
            failed: false,
        })
        .expect("left behind");
    let delivered = core.deliver_outbox().await;
    assert_eq!(delivered, ["out-replayed"]);
    let detail = hub.incident(&caller, "inc-core-1").await.expect("incident");
    assert_eq!(detail.notes.iter().filter(|n| n.text == "first").count(), 1);
    assert!(core.outbox().expect("outbox").items.is_empty());

    // With the hub there, the guard's own password changes at once; the app's session stays.
    let changed = change_password().await.expect("changed");
    assert!(
        !matches!(changed, WriteOutcome::Queued { .. }),
        "{changed:?}"
    );
    assert!(hub.login("guard", PASSWORD, "test").await.is_err());
    hub.login("guard", NEW_PASSWORD, "test")
        .await
        .expect("the new password");
    core.hub_get("/me").await.expect("still signed in");
    assert!(!password_on_disk(), "a password written to the profile");
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_lists_cameras_keeps_walls_and_layouts_and_follows_the_hub() {
    let data = scratch("hub");
    let (running, _sim) = demo_hub(&data).await;
    let (address, certificate) = (
        running.addr,
        running.certificate.clone().expect("self-signed"),
    );
    let store: Arc<keyring_core::CredentialStore> =
        keyring_core::mock::Store::new().expect("mock store");
    let keychain = || Ok(Keychain::with_store(store.clone(), Duration::from_secs(2)));
    let profile_dir = scratch("profile");

    // Without the hub's certificate the sign-in fails clearly.
    let events = Arc::new(Collected::default());
    let core = Core::new(
        Profile::open(&profile_dir).expect("profile"),
        keychain(),
        events.clone(),
    );
    let hub_url = running.url.clone();
    let request = |password: Option<&str>, ca: bool| SignIn {
        hub: hub_url.clone(),
        username: "guard".into(),
        password: password.map(str::to_owned),
        remember: true,
        ca_file: ca.then(|| certificate.clone()),
    };
    let refused = core
        .sign_in(request(Some(PASSWORD), false))
        .await
        .expect_err("untrusted");
    assert_eq!(
        refused.code,
        ErrorCode::HubCertificate,
        "{}",
        refused.message
    );
    let wrong = core
        .sign_in(request(Some("wrong"), true))
        .await
        .expect_err("wrong password");
    assert_eq!(
        wrong.code,
        ErrorCode::HubUnauthenticated,
        "{}",
        wrong.message
    );
    assert!(!wrong.message.contains("wrong"));

    let operator = core
        .sign_in(request(Some(PASSWORD), true))
        .await
        .expect("signed in");
    assert_eq!(operator.username, "guard");
    let cameras: Vec<_> = core
        .cameras()
        .iter()
        .flat_map(|s| s.floors.iter().flat_map(|f| f.cameras.clone()))
        .collect();
    assert_eq!(cameras.len(), 16, "the demo site's sixteen cameras");
    assert!(
        cameras
            .iter()
            .all(|c| c.main_url.starts_with("rtsp://127.0.0.1:"))
    );
    until("the live link", || events.link() == Some(Link::Online)).await;

    // An export that is not there saves nothing: a clear error, and no file that looks whole.
    let downloads = scratch("downloads");
    let missing = core
        .export_download("exp-missing", &downloads)
        .await
        .expect_err("no such export");
    assert_eq!(missing.code, ErrorCode::HubNotFound, "{}", missing.message);
    assert_eq!(
        std::fs::read_dir(&downloads)
            .map(|d| d.count())
            .unwrap_or(0),
        0,
        "nothing left in the downloads folder"
    );

    // A download streams into a `.part` file renamed when whole; one already under way for
    // the same name is not written over.
    let client = app::hub_client::HubClient::new(&hub_url, Some(&certificate)).expect("client");
    let session = client.sign_in("guard", PASSWORD).await.expect("session");
    let saved = downloads.join("sites.json");
    let bytes = client
        .download(&session.token, "/sites", &saved)
        .await
        .expect("downloaded");
    let text = std::fs::read_to_string(&saved).expect("saved");
    assert_eq!(bytes, text.len() as u64);
    assert!(text.contains("demo-hq"), "{text}");
    assert!(!saved.with_extension("part").exists(), "no .part left");
    let busy = downloads.join("busy.json");
    std::fs::write(busy.with_extension("part"), b"another download").expect("a .part");
    let refused = client
        .download(&session.token, "/sites", &busy)
        .await
        .expect_err("the name is being written");
    assert_eq!(refused.code, ErrorCode::Storage, "{}", refused.message);
    assert_eq!(
        std::fs::read(busy.with_extension("part")).expect("still there"),
        b"another download"
    );
    assert!(!busy.exists());

    // The wall: a layout and cameras, then saved on the hub as a shared layout.
    core.set_preset("wall-1", "2x2").expect("2x2");
    core.assign("wall-1", 1, Some("cam03")).expect("cam03");
    core.assign("wall-1", 3, Some("cam07")).expect("cam07");
    assert_eq!(
        core.assign("wall-1", 4, Some("cam01"))
            .expect_err("no tile 5")
            .code,
        ErrorCode::BadInput
    );
    let saved = core
        .save_layout("wall-1", "Lobby watch", Some("demo-hq"), None)
        .await
        .expect("saved");
    assert_eq!(
        saved.body.cameras,
        [None, Some("cam03".into()), None, Some("cam07".into())]
    );
    core.set_preset("wall-1", "3x3").expect("3x3");
    core.assign("wall-1", 0, Some("cam16")).expect("cam16");
    drop(core);

    // A restart: the profile brings back the wall; the remembered password signs in.
    let events = Arc::new(Collected::default());
    let core = Core::new(
        Profile::open(&profile_dir).expect("profile"),
        keychain(),
        events.clone(),
    );
    let startup = core.startup();
    let last = startup.last_sign_in.expect("remembered sign-in");
    assert!(last.remember);
    let wall = core
        .walls()
        .into_iter()
        .find(|w| w.id == "wall-1")
        .expect("wall");
    assert_eq!(wall.state.layout.name, "3x3");
    assert_eq!(wall.state.cameras[0].as_deref(), Some("cam16"));
    assert_eq!(
        core.cameras().len(),
        1,
        "cameras known before the hub answers"
    );
    core.sign_in(request(None, true))
        .await
        .expect("remembered password");
    let layouts = core.layouts().await.expect("layouts");
    assert_eq!(layouts.len(), 1);
    core.open_layout("wall-1", &layouts[0].id)
        .await
        .expect("open");
    let wall = core
        .walls()
        .into_iter()
        .find(|w| w.id == "wall-1")
        .expect("wall");
    assert_eq!(wall.state.layout.name, "2x2");
    assert_eq!(
        wall.state.cameras,
        [None, Some("cam03".into()), None, Some("cam07".into())]
    );

    // The hub goes away: the link says so (the walls keep their state); it comes back.
    until("online again", || events.link() == Some(Link::Online)).await;
    running.stop().await;
    until("reconnecting", || events.link() == Some(Link::Reconnecting)).await;
    assert_eq!(core.walls().len(), 1);
    let again = hub::serve::start(
        testsite::tls_config(&data, address),
        Arc::new(hub::SystemClock),
    )
    .await
    .expect("hub again");
    until("back online", || events.link() == Some(Link::Online)).await;

    // Signing out and forgetting the password: the next sign-in needs it typed.
    core.sign_out(true).await.expect("sign out");
    assert_eq!(core.connection().link, Link::SignedOut);
    let error = core
        .sign_in(request(None, true))
        .await
        .expect_err("forgotten");
    assert_eq!(error.code, ErrorCode::NoPassword);
    again.stop().await;
}
