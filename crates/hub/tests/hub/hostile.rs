//! Malformed and hostile requests, generated from the OpenAPI document: every operation the
//! document lists gets random and hostile path parameters, query strings and bodies (random
//! JSON, objects shaped like the operation's schema with wrong or hostile values, non-JSON
//! bytes), with and without a valid token. Every answer must be a 4xx with a reason or a
//! success, never a 5xx, and its status one the document declares for the operation.

use crate::support::{Backend, SITE, TestHub, operations};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value};

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9-]{1,12}",
        any::<String>(),
        Just("\u{0}".to_owned()),
        Just("a\u{0}b".to_owned()),
        Just(SITE.to_owned()),
        Just("door01".to_owned()),
        Just("x".repeat(5000)),
        Just("../../etc/passwd".to_owned()),
        Just("' OR 1=1 --".to_owned()),
        Just("$1".to_owned()),
        Just("*".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("-1".to_owned()),
        Just("2026-11-26T10:00:00Z".to_owned()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        hostile_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

#[derive(Debug, Clone)]
enum BodyKind {
    None,
    Json(Value),
    /// Values for the schema's fields, in order; missing ones are left out.
    Shaped(Vec<Option<Value>>),
    Bytes(Vec<u8>),
}

fn body() -> impl Strategy<Value = BodyKind> {
    prop_oneof![
        Just(BodyKind::None),
        json_value().prop_map(BodyKind::Json),
        prop::collection::vec(prop::option::of(json_value()), 0..12).prop_map(BodyKind::Shaped),
        prop::collection::vec(any::<u8>(), 0..256).prop_map(BodyKind::Bytes),
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        hostile_text().prop_map(|s| format!("site={SITE}&door={s}")),
        (hostile_text(), hostile_text()).prop_map(|(k, v)| format!("site={k}&kind={v}&limit={v}")),
        (any::<i64>(), hostile_text())
            .prop_map(|(n, t)| format!("site={SITE}&limit={n}&from={t}&state={t}&after={n}")),
        any::<String>(),
    ]
}

fn hostile_requests_never_get_a_5xx(backend: Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let hub = runtime.block_on(TestHub::start(backend));
    let tokens = runtime.block_on(async {
        vec![
            String::new(),
            hub.login("guard").await,
            hub.login("it-admin").await,
            hub.login("manager").await,
        ]
    });
    let document: Value = runtime
        .block_on(async {
            hub.http
                .get(hub.url("/api/v1/openapi.json"))
                .send()
                .await?
                .json()
                .await
        })
        .expect("openapi document");
    let operations = operations(&document);
    assert!(
        operations.len() >= 30,
        "the document lists the API: {}",
        operations.len()
    );
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        0..operations.len(),
        prop::collection::vec(hostile_text(), 2),
        query(),
        body(),
        0..tokens.len(),
    );
    let result = runner.run(&strategy, |(op, params, query, body, token)| {
        let operation = &operations[op];
        let mut url = reqwest::Url::parse(&hub.url("")).expect("base url");
        {
            let mut segments = url.path_segments_mut().expect("segments");
            let mut next_param = params.iter();
            for segment in operation.path.trim_start_matches('/').split('/') {
                if segment.starts_with('{') {
                    segments.push(next_param.next().map(String::as_str).unwrap_or("x"));
                } else {
                    segments.push(segment);
                }
            }
        }
        if !query.is_empty() {
            url.set_query(Some(&query));
        }
        let mut request = hub.http.request(operation.method.clone(), url.clone());
        if !tokens[token].is_empty() {
            request = request.bearer_auth(&tokens[token]);
        }
        request = match &body {
            BodyKind::None => request,
            BodyKind::Json(value) => request.json(value),
            BodyKind::Shaped(values) => {
                let fields = operation.fields.clone().unwrap_or_default();
                let object: Map<String, Value> = fields
                    .into_iter()
                    .zip(values.iter())
                    .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
                    .collect();
                request.json(&Value::Object(object))
            }
            BodyKind::Bytes(bytes) => request
                .header("content-type", "application/json")
                .body(bytes.clone()),
        };
        let (status, text) = runtime.block_on(async {
            let response = request.send().await.expect("hub answers");
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        });
        if status >= 500 {
            return Err(TestCaseError::fail(format!(
                "{} {url} with {body:?} → {status}: {text}",
                operation.method
            )));
        }
        if let Err(untrue) = operation.check_answer(status, &text) {
            return Err(TestCaseError::fail(format!(
                "{} {url} with {body:?}: {untrue}",
                operation.method
            )));
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    runtime.block_on(async {
        let (status, _) = hub
            .call(reqwest::Method::GET, "/api/v1/health", "", None)
            .await;
        assert_eq!(status, 200, "the hub is still up");
    });
    runtime.block_on(hub.running.stop());
}

#[test]
fn hostile_requests_never_get_a_5xx_on_sqlite() {
    hostile_requests_never_get_a_5xx(Backend::Sqlite);
}

#[test]
fn hostile_requests_never_get_a_5xx_on_postgres() {
    hostile_requests_never_get_a_5xx(Backend::Postgres);
}
