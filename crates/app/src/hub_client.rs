//! The hub's HTTP API as the app uses it: sign-in, the sites and their cameras, saved
//! layouts. TLS through rustls: the system's roots plus, for a hub with its own certificate
//! (the demo's self-signed one, a company CA), the certificates of a PEM file the operator
//! names. The bearer token lives in memory only and never reaches a log or the UI.

use crate::error::{AppError, ErrorCode, Result};
use contract::{Caller, ErrorBody, LayoutBody, Login, SavedLayout, SiteDetail, SiteSummary};
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A session token; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl Token {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A signed-in session: the token stays here, in memory.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: Token,
    pub expires: String,
    pub operator: Caller,
}

/// One hub, reached over HTTPS (or plain HTTP on loopback, for development).
#[derive(Debug, Clone)]
pub struct HubClient {
    base: url::Url,
    http: reqwest::Client,
    tls: Arc<rustls::ClientConfig>,
}

const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a download may go without a byte (however long it takes in all: an evidence
/// export of many cameras is large).
const DOWNLOAD_STALLED: Duration = Duration::from_secs(60);

impl HubClient {
    /// A client for the hub at `address` (`https://host:port`), trusting the system's roots
    /// and the certificates in `ca_file`.
    pub fn new(address: &str, ca_file: Option<&Path>) -> Result<Self> {
        let base = hub_url(address)?;
        let tls = Arc::new(tls_config(ca_file)?);
        let http = http_client(&tls, |b| b.timeout(REQUEST_TIMEOUT))?;
        Ok(Self { base, http, tls })
    }

    /// The hub's address as the operator typed it, normalised.
    pub fn address(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_owned()
    }

    /// The live feed's WebSocket URL.
    pub fn feed_url(&self) -> String {
        let mut url = self.base.clone();
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        let _ = url.set_scheme(scheme);
        url.set_path("/api/v1/changes");
        url.to_string()
    }

    pub fn tls(&self) -> Arc<rustls::ClientConfig> {
        self.tls.clone()
    }

    pub async fn sign_in(&self, username: &str, password: &str) -> Result<Session> {
        let login = serde_json::to_value(Login {
            username: username.to_owned(),
            password: password.to_owned(),
        })
        .map_err(|e| AppError::bad_input(format!("cannot encode the sign-in: {e}")))?;
        let answer: contract::Session = self
            .send(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                None,
                Some(&login),
            )
            .await?;
        Ok(Session {
            token: Token(answer.token),
            expires: answer.expires,
            operator: answer.user,
        })
    }

    pub async fn sign_out(&self, token: &Token) -> Result<()> {
        self.send::<serde_json::Value>(
            reqwest::Method::POST,
            "/api/v1/auth/logout",
            Some(token),
            None,
        )
        .await
        .map(drop)
    }

    pub async fn sites(&self, token: &Token) -> Result<Vec<SiteSummary>> {
        self.send(reqwest::Method::GET, "/api/v1/sites", Some(token), None)
            .await
    }

    pub async fn site(&self, token: &Token, id: &str) -> Result<SiteDetail> {
        let path = format!("/api/v1/sites/{}", encode(id));
        self.send(reqwest::Method::GET, &path, Some(token), None)
            .await
    }

    /// A site's recorders.
    pub async fn recorders(&self, token: &Token, site: &str) -> Result<Vec<contract::Recorder>> {
        let path = format!("/api/v1/sites/{}/recorders", encode(site));
        self.send(reqwest::Method::GET, &path, Some(token), None)
            .await
    }

    /// A ticket to open one stream of a camera through its recorder.
    pub async fn stream_ticket(
        &self,
        token: &Token,
        site: &str,
        camera: &str,
        stream: contract::StreamName,
        mode: contract::StreamMode,
    ) -> Result<contract::StreamTicket> {
        let path = format!(
            "/api/v1/sites/{}/cameras/{}/ticket",
            encode(site),
            encode(camera)
        );
        let body = serde_json::to_value(contract::TicketRequest {
            stream,
            mode: Some(mode),
        })
        .map_err(|e| AppError::bad_input(format!("cannot encode the request: {e}")))?;
        self.send(reqwest::Method::POST, &path, Some(token), Some(&body))
            .await
    }

    pub async fn layouts(&self, token: &Token) -> Result<Vec<SavedLayout>> {
        self.send(reqwest::Method::GET, "/api/v1/layouts", Some(token), None)
            .await
    }

    pub async fn put_layout(
        &self,
        token: &Token,
        id: &str,
        body: &LayoutBody,
    ) -> Result<SavedLayout> {
        let path = format!("/api/v1/layouts/{}", encode(id));
        let body = serde_json::to_value(body)
            .map_err(|e| AppError::bad_input(format!("cannot encode the layout: {e}")))?;
        self.send(reqwest::Method::PUT, &path, Some(token), Some(&body))
            .await
    }

    pub async fn delete_layout(&self, token: &Token, id: &str) -> Result<()> {
        let path = format!("/api/v1/layouts/{}", encode(id));
        self.send::<serde_json::Value>(reqwest::Method::DELETE, &path, Some(token), None)
            .await
            .map(drop)
    }

    /// GET `/api/v1` + `path` (checked by the caller), as JSON.
    pub async fn get_value(&self, token: &Token, path: &str) -> Result<serde_json::Value> {
        self.send(
            reqwest::Method::GET,
            &format!("/api/v1{path}"),
            Some(token),
            None,
        )
        .await
    }

    /// A write to `/api/v1` + `path` (checked by the caller); the hub's JSON answer.
    pub async fn write_value(
        &self,
        token: &Token,
        method: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| AppError::bad_input(format!("`{method}` is not an HTTP method")))?;
        self.send(method, &format!("/api/v1{path}"), Some(token), Some(body))
            .await
    }

    /// GET `/api/v1` + `path` as bytes with their media type (floor plans).
    pub async fn get_bytes(&self, token: &Token, path: &str) -> Result<(String, Vec<u8>)> {
        let url = self.url(&format!("/api/v1{path}"))?;
        let response = self
            .http
            .get(url)
            .bearer_auth(token.expose())
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let media_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e))?;
        if status.is_success() {
            return Ok((media_type, bytes.to_vec()));
        }
        Err(answer_error(status, path, &bytes))
    }

    /// Streams the answer to GET `path` into `dest`, written beside it first (a `.part` file
    /// made anew: two downloads never share one) and renamed when whole, so that a cut
    /// download leaves no file that looks complete. Answers the bytes written.
    pub async fn download(&self, token: &Token, path: &str, dest: &Path) -> Result<u64> {
        use std::io::Write as _;
        let url = self.url(&format!("/api/v1{path}"))?;
        let http = http_client(&self.tls, |b| b.read_timeout(DOWNLOAD_STALLED))?;
        let mut response = http
            .get(url)
            .bearer_auth(token.expose())
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        if !status.is_success() {
            let bytes = response
                .bytes()
                .await
                .map_err(|e| self.transport_error(&e))?;
            return Err(answer_error(status, path, &bytes));
        }
        let partial = dest.with_extension("part");
        let cannot = |e: std::io::Error| {
            AppError::storage(format!("cannot write {}: {e}", partial.display()))
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)
            .map_err(cannot)?;
        let mut written = 0u64;
        let copied: Result<()> = async {
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| self.transport_error(&e))?
            {
                file.write_all(&chunk).map_err(cannot)?;
                written += chunk.len() as u64;
            }
            file.sync_all().map_err(cannot)?;
            std::fs::rename(&partial, dest)
                .map_err(|e| AppError::storage(format!("cannot write {}: {e}", dest.display())))
        }
        .await;
        if let Err(error) = copied {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
        Ok(written)
    }

    /// The hub's URL of `path` (absolute, from its root).
    fn url(&self, path: &str) -> Result<url::Url> {
        self.base
            .join(path)
            .map_err(|e| AppError::bad_input(format!("bad path {path}: {e}")))
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&Token>,
        body: Option<&serde_json::Value>,
    ) -> Result<T> {
        let url = self.url(path)?;
        let mut request = self.http.request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token.expose());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e))?;
        if status.is_success() {
            let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            return serde_json::from_slice(bytes).map_err(|e| {
                AppError::new(
                    ErrorCode::HubAnswer,
                    format!("the hub's answer to {path} is not what this app expects: {e}"),
                )
            });
        }
        Err(answer_error(status, path, &bytes))
    }

    fn transport_error(&self, error: &reqwest::Error) -> AppError {
        let address = self.address();
        // The whole chain: rustls says *why* a certificate was refused several levels down.
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            detail = format!("{detail}: {cause}");
            source = cause.source();
        }
        if detail.contains("certificate") || detail.contains("UnknownIssuer") {
            AppError::new(
                ErrorCode::HubCertificate,
                format!(
                    "the hub at {address} has a certificate this computer does not trust \
                     ({detail}); ask IT for the hub's CA file"
                ),
            )
        } else if error.is_timeout() {
            // Sent, perhaps received: the outcome is unknown (unlike a refused connection).
            AppError::new(
                ErrorCode::HubTimeout,
                format!("the hub at {address} did not answer in time"),
            )
        } else {
            AppError::new(
                ErrorCode::HubUnreachable,
                format!("cannot reach the hub at {address}: {detail}"),
            )
        }
    }
}

/// A refusal from the hub as the console sees it: `hub_<code>` and the hub's message.
/// An HTTP client for the hub over `tls`, no redirects, with `limits` (its timeouts).
fn http_client(
    tls: &rustls::ClientConfig,
    limits: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> Result<reqwest::Client> {
    limits(reqwest::Client::builder())
        .use_preconfigured_tls(tls.clone())
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| {
            AppError::new(
                ErrorCode::HubClient,
                format!("cannot make an HTTP client: {e}"),
            )
        })
}

fn answer_error(status: reqwest::StatusCode, path: &str, bytes: &[u8]) -> AppError {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(error) => AppError::new(ErrorCode::from_hub(error.code), error.message),
        // Not the hub's own JSON: a proxy in between. Its 4xx (a body too large, say) will not
        // change on a retry; the rest may.
        Err(_) if status.is_client_error() && !matches!(status.as_u16(), 401 | 408 | 429) => {
            AppError::new(
                ErrorCode::HubRefused,
                format!("the hub answered {status} to {path}"),
            )
        }
        Err(_) => AppError::new(
            ErrorCode::HubAnswer,
            format!("the hub answered {status} to {path}"),
        ),
    }
}

/// One path segment, percent-encoded; `.` and `..` would move the request elsewhere.
pub fn encode(segment: &str) -> String {
    match segment {
        "." | ".." | "" => "%2E%2E%2E".to_owned(),
        _ => url::form_urlencoded::byte_serialize(segment.as_bytes())
            .collect::<String>()
            .replace('+', "%20"),
    }
}

/// Checks a hub address: https (plain http only to this computer), no user or password in it.
pub fn hub_url(address: &str) -> Result<url::Url> {
    let address = address.trim();
    let url = url::Url::parse(address).map_err(|e| {
        AppError::bad_input(format!(
            "`{address}` is not a hub address ({e}); write it as https://host:port"
        ))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AppError::bad_input(
            "the hub address must not carry a user name or password; type them in the form",
        ));
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(AppError::bad_input(
                "a hub on another computer must be reached over https",
            ));
        }
        other => return Err(AppError::bad_input(format!("`{other}` is not https"))),
    }
    if url.host_str().is_none() {
        return Err(AppError::bad_input("the hub address has no host"));
    }
    let mut base = url;
    base.set_path("/");
    base.set_query(None);
    base.set_fragment(None);
    Ok(base)
}

/// rustls with the ring provider: the system's roots and the certificates in `ca_file`.
pub fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for certificate in native.certs {
        // A system certificate rustls cannot parse is skipped, as browsers do.
        let _ = roots.add(certificate);
    }
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            AppError::bad_input(format!("cannot read the CA file {}: {e}", path.display()))
        })?;
        let mut added = 0;
        for certificate in rustls_pemfile_certs(&pem, path)? {
            roots.add(certificate).map_err(|e| {
                AppError::bad_input(format!(
                    "{} holds a certificate rustls refuses: {e}",
                    path.display()
                ))
            })?;
            added += 1;
        }
        if added == 0 {
            return Err(AppError::bad_input(format!(
                "{} holds no PEM certificate",
                path.display()
            )));
        }
    }
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AppError::new(ErrorCode::HubClient, format!("TLS set-up: {e}")))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

fn rustls_pemfile_certs(
    pem: &[u8],
    path: &Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| AppError::bad_input(format!("{} is not a PEM file: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_addresses_are_checked() {
        assert_eq!(
            hub_url("https://hub.example:8443/some/path?q=1")
                .expect("ok")
                .as_str(),
            "https://hub.example:8443/"
        );
        assert!(hub_url("http://127.0.0.1:8080").is_ok());
        for bad in [
            "http://hub.example",
            "https://guard:secret@hub.example",
            "ftp://hub.example",
            "hub.example",
            "",
        ] {
            let error = hub_url(bad).expect_err(bad);
            assert_eq!(error.code, ErrorCode::BadInput);
            assert!(!error.message.contains("secret"), "{}", error.message);
        }
    }

    #[test]
    fn the_feed_url_follows_the_scheme() {
        rustls::crypto::ring::default_provider()
            .install_default()
            .ok();
        let client = HubClient::new("https://127.0.0.1:8443", None).expect("client");
        assert_eq!(client.feed_url(), "wss://127.0.0.1:8443/api/v1/changes");
    }

    #[test]
    fn a_token_never_prints() {
        assert_eq!(format!("{:?}", Token("abc".into())), "Token(<redacted>)");
    }
}
