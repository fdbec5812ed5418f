//! A hub on a fresh database, served on a free loopback port, with the demo site and one user
//! per role; and an HTTP client that logs in as them.

use hub::model::{Role, SiteImport};
use hub::serve::{RunningHub, ServeConfig, Tls};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body once per backend, each in its own test.
#[macro_export]
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::support::Backend::Postgres).await;
            }
        }
    };
}

pub const PASSWORD: &str = "correct horse battery";
pub const SITE: &str = "demo-hq";

fn postgres() -> &'static testkit::Postgres {
    static PG: OnceLock<Result<testkit::Postgres, String>> = OnceLock::new();
    match PG.get_or_init(testkit::Postgres::start) {
        Ok(pg) => pg,
        Err(e) => panic!("PostgreSQL for the tests: {e}"),
    }
}

/// A scratch folder unique to this process and call.
pub fn scratch(kind: &str) -> PathBuf {
    testkit::scratch(&format!("hubtest-{kind}"))
}

/// A new, empty database's URL.
pub fn database(backend: Backend) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    match backend {
        Backend::Sqlite => format!("sqlite://{}/hub.db", scratch("sqlite").display()),
        Backend::Postgres => postgres()
            .create_database(&format!(
                "hub_{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::SeqCst)
            ))
            .expect("create database"),
    }
}

/// A running hub with the demo site and users `guard`, `supervisor`, `manager`, `it-admin`
/// (all sites) and `other-guard` (a guard of another site only).
#[derive(Debug)]
pub struct TestHub {
    pub running: RunningHub,
    pub http: reqwest::Client,
}

pub fn demo_import() -> SiteImport {
    hub::model::site_import(&site::demo_site_path()).expect("demo site")
}

impl TestHub {
    pub async fn start(backend: Backend) -> Self {
        Self::start_on(backend, database(backend)).await
    }

    pub async fn start_on(backend: Backend, database: String) -> Self {
        Self::start_with(backend, database, None).await
    }

    pub async fn start_with(
        _backend: Backend,
        database: String,
        mqtt: Option<mqtt::Settings>,
    ) -> Self {
        Self::start_full(database, mqtt, None, Default::default()).await
    }

    /// A hub on SQLite that also serves a web console from `console`.
    pub async fn start_with_console(console: PathBuf) -> Self {
        Self::start_full(
            database(Backend::Sqlite),
            None,
            Some(console),
            Default::default(),
        )
        .await
    }

    /// A hub on SQLite with this connection cap and these trusted proxies.
    pub async fn start_with_edge(edge: hub::edge::Edge) -> Self {
        Self::start_full(database(Backend::Sqlite), None, None, edge).await
    }

    async fn start_full(
        database: String,
        mqtt: Option<mqtt::Settings>,
        console: Option<PathBuf>,
        edge: hub::edge::Edge,
    ) -> Self {
        let config = ServeConfig {
            database,
            listen: "127.0.0.1:0".parse().expect("addr"),
            data_dir: scratch("data"),
            tls: Tls::Off,
            cors_origins: vec!["https://console.example".into()],
            mqtt,
            console,
            edge,
        };
        let mut builder = testsite::DemoHub::builder(config);
        for role in [Role::Guard, Role::Supervisor, Role::Manager, Role::ItAdmin] {
            builder = builder.user(role.as_str(), PASSWORD, "*", role);
        }
        let site = builder
            .user("other-guard", PASSWORD, "elsewhere", Role::Guard)
            .start()
            .await;
        Self {
            running: site.running,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/api/v1/changes", self.running.addr)
    }

    pub async fn login(&self, username: &str) -> String {
        let response = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), 200, "log-in as {username}");
        response.json::<Value>().await.expect("json")["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// A browser's session: the `name=value` of the cookie the browser log-in sets.
    pub async fn browser_cookie(&self, username: &str) -> String {
        let response = self
            .http
            .post(self.url("/api/v1/auth/browser-login"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), 200, "browser log-in as {username}");
        response.headers()[reqwest::header::SET_COOKIE]
            .to_str()
            .expect("cookie")
            .split(';')
            .next()
            .expect("pair")
            .to_owned()
    }

    /// Registers recorder `id` (its public key `key`, its HTTP playback at `playback` if
    /// given) as `admin` and gives it camera `cam01`; returns the hub's answer.
    pub async fn register_recorder(
        &self,
        admin: &str,
        id: &str,
        key: &str,
        playback: Option<&str>,
    ) -> (u16, Value) {
        let mut body = json!({"id": id, "name": id, "rtsp_url": "rtsp://127.0.0.1:8556",
                              "public_key": key});
        if let Some(url) = playback {
            body["playback_url"] = json!(url);
        }
        let path = format!("/api/v1/sites/{SITE}/recorders/{id}");
        let answer = self
            .call(reqwest::Method::PUT, &path, admin, Some(body))
            .await;
        if answer.0 == 200 {
            let (status, _) = self
                .call(
                    reqwest::Method::PUT,
                    &format!("/api/v1/sites/{SITE}/cameras/cam01/recorder"),
                    admin,
                    Some(json!({"recorder": id})),
                )
                .await;
            assert_eq!(status, 200, "cam01 to recorder {id}");
        }
        answer
    }

    /// The kinds of the changes committed so far that start with `prefix`, in order.
    pub async fn change_kinds(&self, prefix: &str) -> Vec<&'static str> {
        self.running
            .hub
            .db
            .changes_after(0, 10_000)
            .await
            .expect("changes")
            .iter()
            .map(|c| c.body.kind())
            .filter(|kind| kind.starts_with(prefix))
            .collect()
    }

    /// `GET path` as `token`, which must answer 200 with a list: its items.
    pub async fn list(&self, path: &str, token: &str) -> Vec<Value> {
        let (status, list) = self.call(reqwest::Method::GET, path, token, None).await;
        assert_eq!(status, 200, "GET {path}: {list}");
        list.as_array().cloned().unwrap_or_default()
    }

    /// Sends a request as `token` and returns the status and JSON body (Null when empty).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The audit lines of `action`, as `token` may read them.
    pub async fn audit(&self, token: &str, action: &str) -> Vec<Value> {
        let (status, lines) = self
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/audit?action={action}"),
                token,
                None,
            )
            .await;
        assert_eq!(status, 200, "{lines}");
        lines.as_array().cloned().unwrap_or_default()
    }

    /// A second site, `site` (the demo site under another id), with an event source `source`
    /// of its own; answers the source's secret.
    pub async fn other_site(&self, site: &str, source: &str) -> Vec<u8> {
        let mut import = demo_import();
        import.site["id"] = json!(site);
        self.running
            .hub
            .import_site(hub::store::Actor::LocalAdmin, import)
            .await
            .expect("a second site");
        self.source_on(site, source).await
    }

    /// Registers an event source for the demo site and returns its secret.
    pub async fn source(&self, id: &str) -> Vec<u8> {
        self.source_on(SITE, id).await
    }

    /// Registers an event source `id` for `site` and returns its secret.
    pub async fn source_on(&self, site: &str, id: &str) -> Vec<u8> {
        self.running
            .hub
            .create_source(
                hub::store::Actor::LocalAdmin,
                hub::model::NewSource {
                    id: id.into(),
                    site: site.into(),
                    name: id.into(),
                },
            )
            .await
            .expect("source")
            .secret
            .into_bytes()
    }

    /// Posts events to the webhook, signed; returns the status and body.
    pub async fn post_events(&self, source: &str, secret: &[u8], events: &Value) -> (u16, Value) {
        post_signed(&self.http, &self.running.url, source, secret, events).await
    }
}

/// Posts `events` to `base`'s webhook as `source`, signed with `secret`; the status and body,
/// or status 0 when the hub could not be reached.
pub async fn post_signed(
    http: &reqwest::Client,
    base: &str,
    source: &str,
    secret: &[u8],
    events: &Value,
) -> (u16, Value) {
    let body = serde_json::to_vec(events).expect("json");
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let sent = http
        .post(format!("{base}/api/v1/ingest/{source}"))
        .header("content-type", "application/json")
        .header(events::TIMESTAMP_HEADER, &timestamp)
        .header(
            events::SIGNATURE_HEADER,
            events::sign(secret, &timestamp, &body),
        )
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

/// Asks `check` every 100 ms until it answers something, for at most 20 s.
pub async fn wait_for<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A door event as the simulator's controllers send it.
pub fn door_event(id: &str, door: &str, event_type: &str, state: &str) -> Value {
    json!({
        "id": id,
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "site": SITE,
        "door": door,
        "topic": format!("tns1:Door/State/{event_type}"),
        "type": event_type,
        "state": state,
    })
}

/// The demo site's first door.
pub fn first_door() -> String {
    site::Site::load(&site::demo_site_path())
        .expect("demo site")
        .doors[0]
        .id
        .clone()
}

/// Spawns a `watchfloor-hub serve` command and returns it with the URL it printed on its
/// first line (once it listens).
pub fn spawn_serving(command: &mut std::process::Command) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("watchfloor-hub serve");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the hub prints its URL");
    (child, line.trim().to_owned())
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub method: reqwest::Method,
    pub path: String,
    /// Property names of the request body's schema, when it has one.
    pub fields: Option<Vec<String>>,
    /// The statuses the document declares.
    pub declared: Vec<u16>,
}

/// Every operation the OpenAPI document lists.
pub fn operations(document: &Value) -> Vec<Operation> {
    let schemas = &document["components"]["schemas"];
    let fields_of = |schema: &Value| -> Option<Vec<String>> {
        let schema = if schema["type"] == "array" {
            &schema["items"]
        } else {
            schema
        };
        let name = schema["$ref"].as_str()?.rsplit('/').next()?;
        Some(
            schemas[name]["properties"]
                .as_object()?
                .keys()
                .cloned()
                .collect(),
        )
    };
    let mut out = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Ok(method) = method.to_uppercase().parse::<reqwest::Method>() else {
                continue;
            };
            let fields = op["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.values().next())
                .and_then(|media| fields_of(&media["schema"]));
            let declared = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(status, _)| status.parse().ok())
                .collect();
            out.push(Operation {
                method,
                path: path.clone(),
                fields,
                declared,
            });
        }
    }
    out
}

impl Operation {
    /// Whether an answer is what the document says: a declared status, and for an error the
    /// `{code, message}` body whose code has that status.
    pub fn check_answer(&self, status: u16, text: &str) -> Result<(), String> {
        if status >= 500 {
            return Err(format!("{status}: {text}"));
        }
        if !self.declared.contains(&status) {
            return Err(format!(
                "{status} is not declared (declared: {:?}): {text}",
                self.declared
            ));
        }
        if status >= 400 {
            let error: hub::model::ErrorBody = serde_json::from_str(text)
                .map_err(|e| format!("{status} without a {{code, message}} body ({e}): {text}"))?;
            if error.code.status() != status {
                return Err(format!("{status} with code {:?}: {text}", error.code));
            }
        }
        Ok(())
    }
}

/// A simulated camera `cam01` and the data folder of a recorder `rec-1` that reports to a test
/// hub through its source `rec-1-events` (whose secret is written there as `hub.secret`).
pub struct RecorderBeside {
    pub sim: sim::Sim,
    pub data: PathBuf,
    /// The source's secret.
    pub secret: Vec<u8>,
    url: String,
}

impl TestHub {
    /// The simulator and the recorder's folder (named after `name`), the source registered.
    pub async fn recorder_beside(&self, name: &str) -> RecorderBeside {
        let secret = self.source("rec-1-events").await;
        let sim = sim::Sim::start(
            sim::SimConfig::quiet(site::Site::with_cameras(1)),
            Vec::new(),
        )
        .expect("the simulator");
        let data = scratch(name);
        std::fs::write(data.join("hub.secret"), &secret).expect("secret");
        RecorderBeside {
            sim,
            data,
            secret,
            url: self.running.url.clone(),
        }
    }
}

/// A recorder beside the hub that records cam01's sub-stream in one-second segments and serves
/// recorded video over HTTP (its playback address), with its public key (hex).
pub struct PlaybackRecorder {
    pub key: String,
    pub playback: String,
    /// Kept running (with its simulator) while this lives.
    _recorder: recorder::Recorder,
    _beside: RecorderBeside,
}

impl TestHub {
    pub async fn playback_recorder(&self, name: &str) -> PlaybackRecorder {
        let beside = self.recorder_beside(name).await;
        let key = keys::SigningKey::load_or_create(&beside.data.join("signing.key")).expect("key");
        let config = beside.config(
            &format!(
                "segment = \"1s\"\nrecord = \"sub\"\n\
                 [restream]\nlisten = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\n\
                 hub_key = \"{}\"",
                self.running.hub.ticket_key()
            ),
            "",
            "",
        );
        let recorder = recorder::Recorder::start(config).expect("the recorder starts");
        let port = recorder
            .restream()
            .and_then(|r| r.http_port())
            .expect("the recorder's HTTP playback");
        PlaybackRecorder {
            key: key.public_hex(),
            playback: format!("http://127.0.0.1:{port}"),
            _recorder: recorder,
            _beside: beside,
        }
    }

    /// The first stretch of cam01's sub-stream recording longer than three seconds, once there
    /// is one, as (from, to), through `cookie`'s session.
    pub async fn recorded_span(&self, cookie: &str) -> (String, String) {
        let path = format!("/api/v1/sites/{SITE}/cameras/cam01/recording/sub/timeline");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let answer = self
                .http
                .get(self.url(&path))
                .header(reqwest::header::COOKIE, cookie)
                .send()
                .await
                .expect("answer");
            assert_eq!(answer.status(), 200);
            let timeline: contract::RecordingTimeline = answer.json().await.expect("timeline");
            let long = timeline.spans.iter().find(|s| {
                let from = chrono::DateTime::parse_from_rfc3339(&s.from).expect("from");
                let to = chrono::DateTime::parse_from_rfc3339(&s.to).expect("to");
                to - from > chrono::TimeDelta::seconds(3)
            });
            if let Some(span) = long {
                return (span.from.clone(), span.to.clone());
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no 3 s recorded: {timeline:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    }
}

impl RecorderBeside {
    /// The recorder's configuration: `head` (its keys and tables before `[hub]`), the `[hub]`
    /// table with `hub` lines added, and camera `cam01` with `camera` lines added.
    pub fn config(&self, head: &str, hub: &str, camera: &str) -> recorder::Config {
        let text = format!(
            "id = \"rec-1\"\ndata_dir = \"{dir}\"\n{head}\n\
             [hub]\nurl = \"{url}\"\nsite = \"{SITE}\"\nsource = \"rec-1-events\"\n\
             secret_file = \"{dir}/hub.secret\"\n{hub}\n\
             [[cameras]]\nid = \"cam01\"\nmain = \"{main}\"\nsub = \"{sub}\"\n{camera}\n",
            dir = self.data.display(),
            url = self.url,
            main = self.sim.cameras().url("cam01", sim::StreamKind::Main),
            sub = self.sim.cameras().url("cam01", sim::StreamKind::Sub),
        );
        recorder::Config::parse(&text).expect("configuration")
    }
}
