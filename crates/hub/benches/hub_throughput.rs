//! Hub throughput, SQLite beside PostgreSQL from one run: events ingested per second through
//! the signed webhook (batched and one per request), and the latency from posting an event to
//! each of 20 WebSocket subscribers receiving it (p50, p99).
//!
//! `cargo bench -p hub --bench hub_throughput` (or `cargo xtask bench`).

use futures_util::{SinkExt, StreamExt};
use hub::serve::{RunningHub, ServeConfig, Tls};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

const CLIENTS: usize = 20;
const BATCHED_EVENTS: usize = 20_000;
const BATCH: usize = 100;
const SINGLE_EVENTS: usize = 2_000;
const POSTERS: usize = 8;
const LATENCY_EVENTS: usize = 300;

struct Bench {
    running: RunningHub,
    secret: Vec<u8>,
    door: String,
    http: reqwest::Client,
}

fn scratch(name: &str) -> std::path::PathBuf {
    testkit::scratch(&format!("hubbench-{name}"))
}

async fn start(database: String, name: &str) -> Bench {
    let site = testsite::DemoHub::builder(ServeConfig {
        database,
        listen: "127.0.0.1:0".parse().expect("addr"),
        data_dir: scratch(name),
        tls: Tls::Off,
        cors_origins: Vec::new(),
        mqtt: None,
        console: None,
        edge: Default::default(),
    })
    .user("bench", "bench password", "*", hub::model::Role::Guard)
    .source("bench")
    .start()
    .await;
    let (_, secret) = site.source.expect("the bench's source");
    Bench {
        door: site.site.doors[0].id.clone(),
        running: site.running,
        secret,
        http: reqwest::Client::new(),
    }
}

fn event(id: &str, door: &str) -> Value {
    json!({
        "id": id,
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "site": "demo-hq",
        "door": door,
        "type": "AccessGranted",
        "topic": "tns1:AccessControl/AccessGranted/Credential",
        "credential": "0042",
        "holder": "Bench",
    })
}

async fn post(bench: &Bench, body: &Value) {
    let bytes = serde_json::to_vec(body).expect("json");
    let ts = chrono::Utc::now().timestamp().to_string();
    let response = bench
        .http
        .post(format!("{}/api/v1/ingest/bench", bench.running.url))
        .header("content-type", "application/json")
        .header(events::TIMESTAMP_HEADER, &ts)
        .header(
            events::SIGNATURE_HEADER,
            events::sign(&bench.secret, &ts, &bytes),
        )
        .body(bytes)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 200);
}

/// Events per second with `per_request` events in each request, from several posters at once.
async fn ingest_rate(bench: &Arc<Bench>, label: &str, total: usize, per_request: usize) -> f64 {
    let started = Instant::now();
    let mut posters = Vec::new();
    for poster in 0..POSTERS {
        let bench = bench.clone();
        let label = label.to_owned();
        posters.push(tokio::spawn(async move {
            let requests = total / per_request / POSTERS;
            for r in 0..requests {
                let events: Vec<Value> = (0..per_request)
                    .map(|i| event(&format!("{label}-{poster}-{r}-{i}"), &bench.door))
                    .collect();
                post(&bench, &Value::Array(events)).await;
            }
        }));
    }
    for poster in posters {
        poster.await.expect("poster");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// Post-to-receive latency at each of the subscribers, in milliseconds, sorted.
async fn fan_out(bench: &Arc<Bench>) -> Vec<f64> {
    let token = bench
        .http
        .post(format!("{}/api/v1/auth/login", bench.running.url))
        .json(&json!({"username": "bench", "password": "bench password"}))
        .send()
        .await
        .expect("login")
        .json::<Value>()
        .await
        .expect("json")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (mut socket, _) =
            tokio_tungstenite::connect_async(format!("ws://{}/api/v1/changes", bench.running.addr))
                .await
                .expect("ws");
        socket
            .send(Message::Text(
                json!({"type": "subscribe", "token": token})
                    .to_string()
                    .into(),
            ))
            .await
            .expect("subscribe");
        let _subscribed = socket.next().await;
        let sent = sent.clone();
        clients.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while latencies.len() < LATENCY_EVENTS {
                let Ok(Some(Ok(Message::Text(text)))) =
                    tokio::time::timeout(Duration::from_secs(20), socket.next()).await
                else {
                    continue;
                };
                let received = Instant::now();
                let message: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if message["kind"] != "event" {
                    continue;
                }
                let id = message["data"]["id"].as_str().unwrap_or("").to_owned();
                if let Some(at) = sent.lock().await.get(&id) {
                    latencies.push(received.duration_since(*at).as_secs_f64() * 1000.0);
                }
            }
            latencies
        }));
    }
    for n in 0..LATENCY_EVENTS {
        let id = format!("latency-{n}");
        sent.lock().await.insert(id.clone(), Instant::now());
        post(bench, &event(&id, &bench.door)).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut all = Vec::new();
    for client in clients {
        all.extend(client.await.expect("client"));
    }
    all.sort_by(|a, b| a.total_cmp(b));
    all
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Figures {
    batched: f64,
    single: f64,
    p50: f64,
    p99: f64,
}

async fn measure(database: String, name: &str) -> Figures {
    let bench = Arc::new(start(database, name).await);
    let batched = ingest_rate(&bench, "batched", BATCHED_EVENTS, BATCH).await;
    let single = ingest_rate(&bench, "single", SINGLE_EVENTS, 1).await;
    let latencies = fan_out(&bench).await;
    let figures = Figures {
        batched,
        single,
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
    };
    match Arc::try_unwrap(bench) {
        Ok(bench) => bench.running.stop().await,
        Err(_) => eprintln!("bench hub still shared; left running"),
    }
    figures
}

fn main() {
    let pg = testkit::Postgres::start().expect("PostgreSQL for the benchmark");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let sqlite_url = format!("sqlite://{}/hub.db", scratch("sqlite").display());
    let pg_url = pg.create_database("bench").expect("database");
    let sqlite = runtime.block_on(measure(sqlite_url, "sqlite-data"));
    let postgres = runtime.block_on(measure(pg_url, "pg-data"));
    println!(
        "hub ingest and fan-out, webhook on loopback, {POSTERS} posters, {CLIENTS} WebSocket subscribers"
    );
    println!(
        "{:<44}{:>14}{:>14}{:>10}",
        "", "SQLite", "PostgreSQL", "pg/sqlite"
    );
    let row = |name: &str, a: f64, b: f64, unit: &str| {
        println!(
            "{:<44}{:>10.0} {unit:<3}{:>10.0} {unit:<3}{:>10.2}",
            name,
            a,
            b,
            b / a
        );
    };
    row(
        &format!("events/s, {BATCH} per request"),
        sqlite.batched,
        postgres.batched,
        "/s",
    );
    row(
        "events/s, 1 per request",
        sqlite.single,
        postgres.single,
        "/s",
    );
    let row_ms = |name: &str, a: f64, b: f64| {
        println!("{:<44}{:>10.1} ms {:>10.1} ms {:>10.2}", name, a, b, b / a);
    };
    row_ms(
        &format!("post-to-subscriber latency p50 ({CLIENTS} clients)"),
        sqlite.p50,
        postgres.p50,
    );
    row_ms(
        &format!("post-to-subscriber latency p99 ({CLIENTS} clients)"),
        sqlite.p99,
        postgres.p99,
    );
}
