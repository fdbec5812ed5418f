//! End to end: the real `watchfloor` app under Xvfb, driven through its console's webview by
//! tauri-driver and WebKitWebDriver, against a real hub (TLS, SQLite) and a real simulator
//! serving the demo site. The wall's pixels are read back from the app's own snapshot, and
//! each tile's camera is known from the pixel stamp the simulator writes into every frame.
//!
//! Needs Xvfb, WebKitWebDriver, tauri-driver and dbus-run-session (`cargo xtask setup`).

mod webdriver;

use hub::model::{Grant, Role};
use hub::serve::{ServeConfig, Tls};
use hub::store::NewUser;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use webdriver::Session;

const PASSWORD: &str = "e2e guard password";
const ENTER: &str = "\u{E007}";

/// A process group, stopped (SIGTERM, then SIGKILL) with everything it started.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}

fn spawn_group(command: &mut Command) -> Group {
    use std::os::unix::process::CommandExt;
    Group(
        command
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}")),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("watchfloor-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    dir
}

/// Xvfb on a free display number.
fn xvfb() -> (Group, String) {
    for n in 150..200 {
        if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            || Path::new(&format!("/tmp/.X{n}-lock")).exists()
        {
            continue;
        }
        let group = spawn_group(
            Command::new("Xvfb")
                .args([
                    &format!(":{n}"),
                    "-screen",
                    "0",
                    "2560x900x24",
                    "-nolisten",
                    "tcp",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let start = Instant::now();
        while !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "Xvfb did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        return (group, format!(":{n}"));
    }
    panic!("no free X display number");
}

fn read_png(path: &Path) -> wall::Image {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(path).expect("png"),
    ));
    let mut reader = decoder.read_info().expect("png header");
    let mut rgba = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut rgba).expect("png frame");
    assert_eq!(info.color_type, png::ColorType::Rgba);
    rgba.truncate(info.buffer_size());
    wall::Image {
        width: info.width,
        height: info.height,
        rgba,
    }
}

/// The demo site on a real simulator and a hub on TLS with a guard; returns the hub's URL
/// and certificate.
struct Site {
    _sim: sim::Sim,
    hub: hub::serve::RunningHub,
    runtime: tokio::runtime::Runtime,
}

fn start_site(data: &Path) -> Site {
    hub::serve::install_crypto();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let demo = site::Site::load(&site::demo_site_path()).expect("demo site");
    let sim = sim::Sim::start(sim::SimConfig::quiet(demo), vec![]).expect("simulator");
    let hub = runtime.block_on(async {
        let running = hub::serve::start(
            ServeConfig {
                database: format!("sqlite://{}/hub.db", data.display()),
                listen: "127.0.0.1:0".parse().expect("addr"),
                data_dir: data.to_path_buf(),
                tls: Tls::SelfSigned,
                cors_origins: vec![],
                mqtt: None,
            },
            Arc::new(hub::SystemClock),
        )
        .await
        .expect("hub");
        let mut import =
            hub::model::SiteImport::from_site_file(&site::demo_site_path()).expect("import");
        import.streams = hub::model::streams_from_listing(
            &serde_json::to_value(sim.listing()).expect("listing"),
        );
        running.hub.import_site(None, import).await.expect("site");
        running
            .hub
            .create_user(
                None,
                NewUser {
                    id: "u-guard".into(),
                    username: "guard".into(),
                    display_name: "Demo guard".into(),
                    password: PASSWORD.into(),
                    grants: vec![Grant {
                        site: "demo-hq".into(),
                        role: Role::Guard,
                    }],
                },
            )
            .await
            .expect("guard");
        running
    });
    Site {
        _sim: sim,
        hub,
        runtime,
    }
}

fn sign_in(session: &Session, hub: &str, certificate: &Path) {
    let field = |name: &str| session.wait(&format!("input[name={name}]"), Duration::from_secs(60));
    let hub_field = field("hub");
    session.clear(&hub_field);
    session.type_text(&hub_field, hub);
    let user = field("username");
    session.clear(&user);
    session.type_text(&user, "guard");
    session.type_text(&field("password"), PASSWORD);
    session.click(&session.wait("details summary", Duration::from_secs(5)));
    let ca = field("ca_file");
    session.clear(&ca);
    session.type_text(&ca, &certificate.to_string_lossy());
    session.click(&session.wait("button[type=submit]", Duration::from_secs(5)));
}

/// Puts `camera` on `tile` by keyboard, as a guard would: select the tile, then Enter on the
/// camera in the tree.
fn put_camera(session: &Session, tile: usize, camera: &str) {
    session.click(&session.wait(
        &format!("button[data-tile='{tile}']"),
        Duration::from_secs(5),
    ));
    session.wait(
        &format!("button[data-tile='{tile}'][aria-selected=true]"),
        Duration::from_secs(5),
    );
    let item = session.wait(&format!("li[data-camera={camera}]"), Duration::from_secs(5));
    session.click(&item);
    session.type_text(&item, ENTER);
    session.wait(
        &format!("button[data-tile='{tile}'][data-camera={camera}]"),
        Duration::from_secs(10),
    );
}

/// Snapshots of the wall until tile `tile` of a `preset` wall shows camera `number`.
fn wall_shows(session: &Session, preset: wall::Preset, tile: usize, number: u16) {
    let button = session.wait("button[data-action=snapshot]", Duration::from_secs(5));
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut last = String::new();
    loop {
        session.click(&button);
        std::thread::sleep(Duration::from_millis(700));
        if let Some(element) = session.all("[data-snapshot]").into_iter().next()
            && let Some(path) = session.attribute(&element, "data-snapshot")
            && path != last
        {
            last = path.clone();
            let image = read_png(Path::new(&path));
            let rects = wall::WallLayout::preset(preset).pixel_rects(image.width, image.height, 2);
            let (_, rect) = rects
                .iter()
                .find(|(i, _)| *i == tile)
                .expect("tile on the wall");
            match image.stamp_in(*rect) {
                Some(stamp) if stamp.source == number => return,
                seen => eprintln!("tile {tile} shows {seen:?} so far ({path})"),
            }
        }
        assert!(
            Instant::now() < deadline,
            "tile {tile} never showed camera {number}; last snapshot {last}"
        );
    }
}

#[test]
fn a_guard_signs_in_puts_a_camera_on_the_wall_and_keeps_a_saved_layout() {
    let data = scratch("hub");
    let site = start_site(&data);
    let certificate = site
        .hub
        .certificate
        .clone()
        .expect("self-signed certificate");
    let hub_url = site.hub.url.clone();
    let profile = scratch("profile");
    let (_xvfb, display) = xvfb();
    let port = testkit::free_port();
    let runtime_dir = scratch("runtime");
    let _driver = spawn_group(
        Command::new("dbus-run-session")
            .args([
                "--",
                "tauri-driver",
                "--port",
                &port.to_string(),
                "--native-port",
                &testkit::free_port().to_string(),
            ])
            .env("DISPLAY", &display)
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            // GTK's accessibility bus would outlive the session bus.
            .env("NO_AT_BRIDGE", "1")
            .env("RUST_LOG", "warn,watchfloor=info,app=info")
            .stdout(Stdio::null()),
    );
    let driver = format!("http://127.0.0.1:{port}");
    let app = PathBuf::from(env!("CARGO_BIN_EXE_watchfloor"));
    let args = vec![
        "--profile".to_owned(),
        profile.to_string_lossy().into_owned(),
    ];

    // First run: sign in, see the sixteen cameras, put camera 5 on tile 4 by keyboard.
    let session = Session::start(&driver, &app, &args);
    sign_in(&session, &hub_url, &certificate);
    session.wait("[data-link=online]", Duration::from_secs(30));
    let deadline = Instant::now() + Duration::from_secs(20);
    while session.all("li.camera").len() < 16 {
        assert!(
            Instant::now() < deadline,
            "the sixteen demo cameras were not listed"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(session.all("li.camera").len(), 16);
    put_camera(&session, 3, "cam05");
    wall_shows(&session, wall::Preset::Grid(4), 3, 5);

    // Saved as a layout on the hub.
    session.click(&session.wait("button[role=tab][data-tab=layouts]", Duration::from_secs(5)));
    let name = session.wait("input[aria-label='Layout name']", Duration::from_secs(5));
    session.type_text(&name, "E2E watch");
    session.click(&session.wait("button[data-action=save-layout]", Duration::from_secs(5)));
    session.wait("li[data-layout='E2E watch']", Duration::from_secs(10));
    // Then the wall moves on: camera 9 on tile 4.
    session.click(&session.wait("button[role=tab][data-tab=wall]", Duration::from_secs(5)));
    put_camera(&session, 3, "cam09");
    session.end();

    // A restart: the wall shows what it showed (camera 9 on tile 4); the saved layout is
    // still there and brings camera 5 back.
    let session = Session::start(&driver, &app, &args);
    sign_in(&session, &hub_url, &certificate);
    session.wait("[data-link=online]", Duration::from_secs(30));
    session.wait(
        "button[data-tile='3'][data-camera=cam09]",
        Duration::from_secs(10),
    );
    wall_shows(&session, wall::Preset::Grid(4), 3, 9);
    session.click(&session.wait("button[role=tab][data-tab=layouts]", Duration::from_secs(5)));
    let saved = session.wait(
        "li[data-layout='E2E watch'] button",
        Duration::from_secs(10),
    );
    assert!(session.text(&saved).contains("E2E watch"));
    session.click(&saved);
    session.click(&session.wait("button[role=tab][data-tab=wall]", Duration::from_secs(5)));
    session.wait(
        "button[data-tile='3'][data-camera=cam05]",
        Duration::from_secs(10),
    );
    wall_shows(&session, wall::Preset::Grid(4), 3, 5);
    session.end();
    drop(_driver);
    site.runtime.block_on(site.hub.stop());
}
