//! The door controller driver for the HTTP protocol the simulator's controllers speak: a command
//! is `POST {controller}/api/v1/doors/commands` with the command as JSON and the domain's
//! signature in headers ([`events::commands`]). The domain reaches it only through
//! [`DoorController`]; a real controller's driver goes beside this one.
//!
//! Redirects are not followed: a door command goes to the controller IT configured, never to
//! wherever an answer points (a redirect is an error that names what the controller said).

use crate::store::{BoxFuture, DoorController};
use crate::{HubError, Result, clip};
use std::time::Duration;

/// How long a controller has to take a command.
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct HttpDoorController {
    http: reqwest::Client,
}

impl HttpDoorController {
    /// Needs the process's TLS provider installed first (`serve::install_crypto`).
    pub fn new() -> Result<Self> {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            return Err(HubError::Internal(
                "no TLS provider is installed; call serve::install_crypto first".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| HubError::Internal(format!("HTTP client: {e}")))?;
        Ok(Self { http })
    }
}

impl DoorController for HttpDoorController {
    fn send<'a>(
        &'a self,
        address: &'a str,
        command: &'a events::SignedCommand,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let url = format!("{}/api/v1/doors/commands", address.trim_end_matches('/'));
            let mut request = self
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(command.body.clone());
            for (name, value) in command.headers() {
                request = request.header(name, value);
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => Ok(()),
                Ok(response) => {
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    Err(HubError::Upstream(format!(
                        "controller answered {status}: {}",
                        clip(&text)
                    )))
                }
                Err(e) => Err(HubError::Upstream(format!("controller unreachable: {e}"))),
            }
        })
    }
}
