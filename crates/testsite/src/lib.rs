//! A real hub with the demo site, its users and, when asked, a real simulator whose cameras
//! the site lists and whose doors post to the hub through the signed webhook. For tests and
//! benchmarks only: every step that fails panics with what failed.
//!
//! `DemoHub::builder(config).user("guard", PASSWORD, SITE, Role::Guard).simulator().start()`
//! gives a hub on `config` with the demo site, a guard, and a simulator posting to it.

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
    }
}

/// What to start.
#[derive(Debug)]
pub struct Builder {
    config: ServeConfig,
    users: Vec<NewUser>,
    source: Option<String>,
    simulator: bool,
}

/// A started hub with the demo site.
pub struct DemoHub {
    pub running: RunningHub,
    /// The demo site as the hub holds it (with the simulator's streams, when there is one).
    pub site: SiteDetail,
    /// The webhook source's id and secret, when one was made.
    pub source: Option<(String, Vec<u8>)>,
    /// The simulator posting to the hub, when asked for.
    pub sim: Option<sim::Sim>,
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

    pub async fn start(self) -> DemoHub {
        hub::serve::install_crypto();
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
            let demo = site::Site::load(&site::demo_site_path()).expect("the demo site");
            let sim = sim::Sim::start(sim::SimConfig::quiet(demo), vec![Box::new(webhook)])
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
        DemoHub {
            running,
            site,
            source,
            sim: simulator,
        }
    }
}
