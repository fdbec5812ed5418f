//! A small W3C WebDriver client (what the e2e test needs of it), over tauri-driver.

use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Session {
    http: reqwest::blocking::Client,
    base: String,
}

impl Session {
    /// Starts the app through tauri-driver at `driver` (http://127.0.0.1:PORT).
    pub fn start(driver: &str, application: &std::path::Path, args: &[String]) -> Self {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("http client");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "tauri:options": {"application": application, "args": args},
        }}});
        let deadline = Instant::now() + Duration::from_secs(60);
        let answer: Value = loop {
            match http
                .post(format!("{driver}/session"))
                .json(&capabilities)
                .send()
            {
                Ok(response) => break response.json().expect("session answer"),
                Err(error) if Instant::now() < deadline => {
                    eprintln!("tauri-driver not ready: {error}");
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(error) => panic!("tauri-driver did not answer: {error}"),
            }
        };
        let id = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"));
        Self {
            base: format!("{driver}/session/{id}"),
            http,
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .unwrap_or_else(|e| panic!("webdriver {path}: {e}"))
            .json()
            .unwrap_or_else(|e| panic!("webdriver {path} answer: {e}"));
        answer["value"].clone()
    }

    /// Runs `script` in the page (its value is not read).
    pub fn execute(&self, script: &str) {
        let value = self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        );
        assert!(!Self::is_error(&value), "{script}: {value}");
    }

    /// The window's page as PNG.
    pub fn screenshot_png(&self) -> Vec<u8> {
        use base64::Engine;
        let value = self.call(reqwest::Method::GET, "/screenshot", None);
        let data = value
            .as_str()
            .unwrap_or_else(|| panic!("no screenshot: {value}"));
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("a base64 screenshot")
    }

    fn is_error(value: &Value) -> bool {
        value.get("error").is_some()
    }

    /// Every element matching a CSS selector.
    pub fn all(&self, css: &str) -> Vec<String> {
        let value = self.call(
            reqwest::Method::POST,
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        );
        value
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first element matching `css`, waiting up to `within` for it.
    pub fn wait(&self, css: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(element) = self.all(css).into_iter().next() {
                return element;
            }
            if Instant::now() > deadline {
                let page = self.call(reqwest::Method::GET, "/source", None);
                panic!("no `{css}` within {within:?}; the page:\n{page}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn click(&self, element: &str) {
        let value = self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
        assert!(!Self::is_error(&value), "click: {value}");
    }

    pub fn clear(&self, element: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/clear"),
            Some(json!({})),
        );
    }

    pub fn type_text(&self, element: &str, text: &str) {
        let value = self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        );
        assert!(!Self::is_error(&value), "type: {value}");
    }

    pub fn attribute(&self, element: &str, name: &str) -> Option<String> {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{element}/attribute/{name}"),
            None,
        )
        .as_str()
        .map(str::to_owned)
    }

    /// A DOM property (an input's current `value`, not its initial attribute).
    pub fn property(&self, element: &str, name: &str) -> Option<String> {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{element}/property/{name}"),
            None,
        )
        .as_str()
        .map(str::to_owned)
    }

    pub fn text(&self, element: &str) -> String {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{element}/text"),
            None,
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Ends the session, which closes the app.
    pub fn end(self) {
        let _ = self.http.delete(&self.base).send();
    }
}
