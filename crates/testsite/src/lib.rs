//! A real hub with the demo site, its users and, when asked, a real simulator whose cameras
//! the site lists and whose doors post to the hub through the signed webhook. For tests and
//! benchmarks only: every step that fails panics with what failed.
//!
//! `DemoHub::builder(config).user("guard", PASSWORD, SITE, Role::Guard).simulator().start()`
//! gives a hub on `config` with the demo site, a guard, and a simulator posting to it;
//! `.recorder()` puts the simulator's cameras behind a password that only a recorder holds,
//! and the hub sends every viewer through that recorder with stream tickets.

use hub::model::{Grant, NewSource, NewUser, Role, SiteDetail};
use hub::serve::{RunningHub, ServeConfig};
use hub::store::Actor;
use std::sync::Arc;

/// The demo site's id.
pub const SITE: &str = "demo-hq";

/// A hub on SQLite in `data`, listening on `listen`, over a self-signed TLS certificate it
/// makes in `data` (`RunningHub::certificate`), serving no console.
pub fn tls_config(data: &std::path::Path, listen: std::net::SocketAddr) -> ServeConfig {
    ServeConfig {
        database: format!("sqlite://{}/hub.db", data.display()),
        listen,
        data_dir: data.to_path_buf(),
        tls: hub::serve::Tls::SelfSigned,
        cors_origins: Vec::new(),
        mqtt: None,
        console: None,
        edge: Default::default(),
    }
}

/// What to start.
#[derive(Debug)]
pub struct Builder {
    config: ServeConfig,
    users: Vec<NewUser>,
    source: Option<String>,
    simulator: bool,
    recorder: bool,
    /// Cameras the simulator serves in another codec than the demo site's.
    codecs: Vec<(String, site::Codec)>,
}

/// The password the simulator's cameras ask for when a recorder serves them: only the
/// recorder is given it (tests look for it where it must never be).
pub const CAMERA_PASSWORD: &str = "cam-pw-7d1e-only-in-the-recorder";

/// A started hub with the demo site.
pub struct DemoHub {
    pub running: RunningHub,
    /// The demo site as the hub holds it (with the simulator's streams, when there is one).
    pub site: SiteDetail,
    /// The webhook source's id and secret, when one was made.
    pub source: Option<(String, Vec<u8>)>,
    /// The simulator posting to the hub, when asked for.
    pub sim: Option<sim::Sim>,
    /// The recorder serving the simulator's cameras, when asked for.
    pub recorder: Option<recorder::Recorder>,
}

/// The source's secret never shows.
impl std::fmt::Debug for DemoHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoHub")
            .field("url", &self.running.url)
            .field("site", &self.site.id)
            .field("source", &self.source.as_ref().map(|(id, _)| id))
            .finish_non_exhaustive()
    }
}

impl DemoHub {
    /// A hub served with `config` (its database, port and TLS), to be given users and a
    /// simulator before it starts.
    pub fn builder(config: ServeConfig) -> Builder {
        Builder {
            config,
            users: Vec::new(),
            source: None,
            simulator: false,
            recorder: false,
            codecs: Vec::new(),
        }
    }
}

impl Builder {
    /// A user `username` (id `u-<username>`) with `password` and `role` on `site` (`*` for
    /// every site).
    pub fn user(mut self, username: &str, password: &str, site: &str, role: Role) -> Self {
        self.users.push(NewUser {
            id: format!("u-{username}"),
            username: username.into(),
            display_name: format!("Demo {username}"),
            password: password.into(),
            grants: vec![Grant {
                site: site.into(),
                role,
            }],
        });
        self
    }

    /// A webhook source `id` for the demo site; its secret comes back in [`DemoHub::source`].
    pub fn source(mut self, id: &str) -> Self {
        self.source = Some(id.into());
        self
    }

    /// A simulator of the demo site: the site lists its streams, and its doors post to the hub
    /// through the webhook source (`sim-doors` unless one was named).
    pub fn simulator(mut self) -> Self {
        self.simulator = true;
        if self.source.is_none() {
            self.source = Some("sim-doors".into());
        }
        self
    }

    /// With the simulator: its cameras ask for [`CAMERA_PASSWORD`], a recorder (in this
    /// process, its data beside the hub's) holds it and restreams them, and the hub says the
    /// recorder serves every camera.
    pub fn recorder(mut self) -> Self {
        self.recorder = true;
        self.simulator()
    }

    /// With the simulator: `camera` serves both its streams in `codec`.
    pub fn codec(mut self, camera: &str, codec: site::Codec) -> Self {
        self.codecs.push((camera.into(), codec));
        self
    }

    pub async fn start(self) -> DemoHub {
        hub::serve::install_crypto();
        let hub_data = self.config.data_dir.clone();
        let running = hub::serve::start(self.config, Arc::new(hub::SystemClock))
            .await
            .expect("the hub starts");
        let import = || hub::model::site_import(&site::demo_site_path()).expect("the demo site");
        let mut site = running
            .hub
            .import_site(Actor::LocalAdmin, import())
            .await
            .expect("the demo site imports");
        for user in self.users {
            let name = user.username.clone();
            running
                .hub
                .create_user(Actor::LocalAdmin, user)
                .await
                .unwrap_or_else(|e| panic!("user {name}: {e}"));
        }
        let mut source = None;
        if let Some(id) = self.source {
            let secret = running
                .hub
                .create_source(
                    Actor::LocalAdmin,
                    NewSource {
                        id: id.clone(),
                        site: SITE.into(),
                        name: "Simulated door controllers".into(),
                    },
                )
                .await
                .expect("the webhook source")
                .secret
                .into_bytes();
            source = Some((id, secret));
        }
        let mut simulator = None;
        if self.simulator {
            let (id, secret) = source.clone().expect("a source for the simulator");
            let webhook = sim::Webhook::start(sim::WebhookSettings {
                hub: running.url.clone(),
                source: id,
                secret,
                ca_pem: running
                    .certificate
                    .as_ref()
                    .map(|c| std::fs::read(c).expect("the hub's certificate")),
            })
            .expect("the webhook output");
            let mut demo = site::Site::load(&site::demo_site_path()).expect("the demo site");
            for (camera, codec) in &self.codecs {
                let found = demo
                    .cameras
                    .iter_mut()
                    .find(|c| &c.id == camera)
                    .unwrap_or_else(|| panic!("no camera {camera} in the demo site"));
                found.main.codec = *codec;
                found.sub.codec = *codec;
            }
            let credentials = self.recorder.then(|| sim::Credentials {
                user: "recorder".into(),
                password: CAMERA_PASSWORD.into(),
            });
            let sim = sim::Sim::start(
                sim::SimConfig {
                    credentials,
                    ..sim::SimConfig::quiet(demo)
                },
                vec![Box::new(webhook)],
            )
            .expect("the simulator starts");
            let mut streams = import();
            streams.streams = hub::model::streams_from_listing(
                &serde_json::to_value(sim.listing()).expect("the listing"),
            );
            site = running
                .hub
                .import_site(Actor::LocalAdmin, streams)
                .await
                .expect("the simulator's streams import");
            simulator = Some(sim);
        }
        let mut recorded = None;
        if self.recorder {
            let (started, detail) = start_recorder(&running, &hub_data).await;
            recorded = Some(started);
            site = detail;
        }
        DemoHub {
            running,
            site,
            source,
            sim: simulator,
            recorder: recorded,
        }
    }
}

/// A recorder for the site's cameras as the hub lists them, holding their password, with its
/// restream trusting the hub's tickets; registered with the hub as serving every camera.
async fn start_recorder(
    running: &RunningHub,
    hub_data: &std::path::Path,
) -> (recorder::Recorder, SiteDetail) {
    let hub = &running.hub;
    let data = hub_data.join("recorder");
    std::fs::create_dir_all(&data).expect("the recorder's folder");
    let public_key = keys::SigningKey::load_or_create(&data.join("signing.key"))
        .expect("the recorder's key")
        .public_hex();
    let mut text = format!(
        "id = \"test-recorder\"\ndata_dir = \"{}\"\nsegment = \"4s\"\nrecord = \"sub\"\n\
         [restream]\nlisten = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\nhub_key = \"{}\"\n",
        data.display(),
        hub.ticket_key()
    );
    let detail = hub
        .site_detail(&local_admin(), SITE)
        .await
        .expect("the demo site");
    for camera in &detail.cameras {
        text.push_str(&format!(
            "[[cameras]]\nid = \"{}\"\nmain = \"{}\"\nsub = \"{}\"\n",
            camera.id, camera.main_url, camera.sub_url
        ));
    }
    let config = recorder::Config::parse(&text).expect("the recorder's configuration");
    let store = recorder::credentials::CredentialStore::open(&data).expect("credentials");
    for camera in &detail.cameras {
        store
            .set(
                &camera.id,
                Some(recorder::credentials::Credentials {
                    user: "recorder".into(),
                    password: CAMERA_PASSWORD.into(),
                }),
            )
            .expect("a camera's credentials");
    }
    let started = recorder::Recorder::start(config).expect("the recorder starts");
    let restream = started.restream().expect("the restream");
    let (port, http_port) = (restream.port(), restream.http_port());
    hub.put_recorder(
        Actor::LocalAdmin,
        SITE,
        hub::model::Recorder {
            id: "test-recorder".into(),
            name: "Test recorder".into(),
            rtsp_url: format!("rtsp://127.0.0.1:{port}"),
            public_key,
            playback_url: http_port.map(|port| format!("http://127.0.0.1:{port}")),
        },
    )
    .await
    .expect("the recorder registers");
    for camera in &detail.cameras {
        hub.set_camera_recorder(
            Actor::LocalAdmin,
            SITE,
            &camera.id,
            hub::model::CameraRecorder {
                recorder: Some("test-recorder".into()),
            },
        )
        .await
        .expect("the camera's recorder");
    }
    let detail = hub
        .site_detail(&local_admin(), SITE)
        .await
        .expect("the demo site");
    (started, detail)
}

/// An all-sites IT admin, for reading what the hub holds.
fn local_admin() -> hub::model::Caller {
    hub::model::Caller {
        user_id: "testsite".into(),
        username: "testsite".into(),
        display_name: "testsite".into(),
        grants: vec![Grant {
            site: "*".into(),
            role: Role::ItAdmin,
        }],
    }
}
