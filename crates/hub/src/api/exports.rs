//! Evidence exports from incidents: the request answers at once with the export (its ranges
//! locked); a task of the hub's then asks each camera's recorder for its signed export, with
//! a replay ticket in the caller's name, and hands the files to the domain, which checks them
//! and keeps them as a note ([`crate::store::Hub::export_arrived`]). This is transport.

use super::AppState;
use super::extract::*;
use crate::HubError;
use crate::model::*;
use crate::store::Hub;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// How long a recorder may take to make an export (it remuxes the range before it answers).
const MAKING: Duration = Duration::from_secs(300);
/// The largest export answer the hub takes from a recorder (files kept in its database).
const MAX_ANSWER_BYTES: usize = 384 << 20;

fn client() -> Result<&'static reqwest::Client, HubError> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    super::recordings::recorder_client(&CLIENT, MAKING)
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/exports", tag = "incidents",
    security(("bearer" = [])), params(("id" = String, Path)), request_body = NewExport,
    responses((status = 202, body = EvidenceExport,
               description = "Started: each camera's range is locked; the files follow as notes \
                              on the incident (the export's `done` counts them)"),
              (status = 200, body = EvidenceExport, description = "The same request again"),
              (status = 409, body = ErrorBody, description = "The id is taken by another export")))]
pub(super) async fn create_export(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(incident): Path<String>,
    Body(new): Body<NewExport>,
) -> ApiResult<(StatusCode, Json<EvidenceExport>)> {
    let (export, made) = state.hub.create_export(&caller, &incident, new).await?;
    if !made {
        return Ok((StatusCode::OK, Json(export)));
    }
    let (hub, job) = (state.hub.clone(), export.clone());
    tokio::spawn(async move {
        if let Err(error) = run(&hub, &caller, &job).await {
            tracing::warn!(export = %job.id, %error, "evidence export failed");
            if let Err(error) = hub.export_failed(&job.id, &error.to_string()).await {
                tracing::error!(export = %job.id, %error, "the failed export is not recorded");
            }
        }
    });
    Ok((StatusCode::ACCEPTED, Json(export)))
}

/// Export jobs running at once: each holds a camera's files in memory for a moment.
const JOBS: usize = 2;

/// Each camera's export from its recorder, one after the other, when a place is free.
async fn run(hub: &Arc<Hub>, caller: &Caller, export: &EvidenceExport) -> Result<(), HubError> {
    static PLACES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(JOBS);
    let _place = PLACES
        .acquire()
        .await
        .map_err(|_| HubError::Internal("export places closed".into()))?;
    for camera in &export.cameras {
        let (files, recorder) = fetch(hub, caller, export, camera).await?;
        hub.export_arrived(caller, &export.id, camera, &recorder, files)
            .await?;
    }
    Ok(())
}

/// `camera`'s signed export from the recorder that serves it (and which that is): of its main
/// stream, or its sub-stream where only that is recorded.
async fn fetch(
    hub: &Hub,
    caller: &Caller,
    export: &EvidenceExport,
    camera: &str,
) -> Result<(Vec<NewAttachment>, String), HubError> {
    let mut last = None;
    for stream in [StreamName::Main, StreamName::Sub] {
        let (source, recorder) = hub
            .export_source(caller, &export.site, camera, stream)
            .await?;
        let mut url = url::Url::parse(&format!("{}/export", source.url))
            .map_err(|e| HubError::Internal(format!("the recorder's playback address: {e}")))?;
        url.query_pairs_mut()
            .append_pair("from", &export.from)
            .append_pair("to", &export.to)
            .append_pair("reason", &export.reason);
        let mut answer = client()?
            .post(url)
            .bearer_auth(&source.ticket)
            .send()
            .await
            .map_err(|e| {
                HubError::Upstream(format!("{camera}'s recorder cannot be reached: {e}"))
            })?;
        let status = answer.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            last = Some(HubError::Upstream(format!(
                "{camera}'s recorder has nothing of that range"
            )));
            continue;
        }
        let mut body = Vec::new();
        while let Some(chunk) = answer
            .chunk()
            .await
            .map_err(|e| HubError::Upstream(format!("{camera}'s export: {e}")))?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(HubError::Upstream(format!(
                    "{camera}'s export is larger than {} MiB: export a shorter range",
                    MAX_ANSWER_BYTES >> 20
                )));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let message = serde_json::from_slice::<ErrorBody>(&body)
                .map(|b| b.message)
                .unwrap_or_else(|_| format!("it answered {status}"));
            return Err(HubError::Upstream(format!(
                "{camera}'s recorder: {message}"
            )));
        }
        let files = serde_json::from_slice(&body)
            .map_err(|e| HubError::Upstream(format!("{camera}'s export: {e}")))?;
        return Ok((files, recorder));
    }
    Err(last.unwrap_or_else(|| HubError::Upstream(format!("{camera} is not recorded"))))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/exports", tag = "incidents",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = [EvidenceExport])))]
pub(super) async fn list_exports(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(incident): Path<String>,
) -> ApiResult<Json<Vec<EvidenceExport>>> {
    Ok(Json(state.hub.exports(&caller, &incident).await?))
}

#[utoipa::path(get, path = "/api/v1/exports/{id}/check", tag = "incidents",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ExportCheck,
               description = "The files as the hub keeps them, checked against the manifests \
                              their recorders signed")))]
pub(super) async fn check_export(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ExportCheck>> {
    Ok(Json(state.hub.check_export(&caller, &id).await?))
}

/// Downloads being written at once: each holds one of its files in memory at a time.
const DOWNLOADS: usize = 2;

#[utoipa::path(get, path = "/api/v1/exports/{id}/download", tag = "incidents",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, content_type = "application/zip",
               description = "The finished export as one ZIP file: a folder per camera with its \
                              video, manifest, signatures, sums, the recorder's key and how to \
                              verify them without Watchfloor. The request is audited."),
              (status = 409, body = ErrorBody, description = "The export is not finished")))]
pub(super) async fn download_export(
    State(state): State<AppState>,
    Auth(caller, _): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    use axum::http::header;
    static PLACES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(DOWNLOADS);
    let parts = state.hub.export_download(&caller, &id).await?;
    let place = PLACES
        .acquire()
        .await
        .map_err(|_| HubError::Internal("download places closed".into()))?;
    let root = format!("evidence-{id}");
    let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    let (hub, runtime) = (state.hub.clone(), tokio::runtime::Handle::current());
    let folder = root.clone();
    // The ZIP writer on a thread of its own, one file in memory at a time; what it writes
    // goes out as it comes. A failure cuts the answer short with an error (the browser says
    // the download failed), never with an end that would make a ZIP lacking files look whole.
    tokio::task::spawn_blocking(move || {
        let _place = place;
        if let Err(error) = zip_parts(&hub, &runtime, &folder, &parts, &sender) {
            tracing::warn!(export = %folder, %error, "an export's download stopped");
            let _ = sender.blocking_send(Err(std::io::Error::other(error)));
        }
    });
    let body = axum::body::Body::from_stream(futures_util::stream::unfold(
        receiver,
        |mut receiver| async move { receiver.recv().await.map(|chunk| (chunk, receiver)) },
    ));
    Ok(axum::response::Response::builder()
        .header(header::CONTENT_TYPE, "application/zip")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{root}.zip\""),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(body)
        .map_err(|e| HubError::Internal(e.to_string()))?)
}

/// What the ZIP writer writes, sent on in chunks; nothing more once `broken` is set.
struct Chunks<'a> {
    sender: &'a tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>,
    broken: &'a std::cell::Cell<bool>,
}

/// The most one chunk of a download holds: a file written whole (larger than the writer's
/// buffer) goes out in pieces, not copied at once.
const CHUNK: usize = 256 << 10;

impl std::io::Write for Chunks<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let refused = || std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the download ended");
        if self.broken.get() {
            return Err(refused());
        }
        let piece = &buf[..buf.len().min(CHUNK)];
        self.sender
            .blocking_send(Ok(piece.to_vec()))
            .map_err(|_| refused())?;
        Ok(piece.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes `parts` as a ZIP into `sender`, reading each file from the hub when its turn comes.
/// On a failure nothing more is written: the ZIP writer, dropped, would otherwise end the ZIP
/// with a directory of the files sent so far.
fn zip_parts(
    hub: &Hub,
    runtime: &tokio::runtime::Handle,
    root: &str,
    parts: &[crate::store::ExportPart],
    sender: &tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>,
) -> Result<(), String> {
    use chrono::{Datelike, Timelike};
    use std::io::Write;
    let broken = std::cell::Cell::new(false);
    let out = std::io::BufWriter::with_capacity(
        CHUNK,
        Chunks {
            sender,
            broken: &broken,
        },
    );
    let mut zip = zip::ZipWriter::new_stream(out);
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    let mut write_all = || -> Result<(), String> {
        for part in parts {
            let data = runtime
                .block_on(hub.note_file(&part.note, &part.name))
                .map_err(|e| e.to_string())?;
            let made = &part.made;
            // When the recorder made it (UTC; ZIP times have no zone), not 1980.
            let options = zip::DateTime::from_date_and_time(
                u16::try_from(made.year()).unwrap_or(1980),
                made.month() as u8,
                made.day() as u8,
                made.hour() as u8,
                made.minute() as u8,
                made.second() as u8,
            )
            .map_or(stored, |at| stored.last_modified_time(at));
            zip.start_file(format!("{root}/{}/{}", part.folder, part.name), options)
                .map_err(|e| e.to_string())?;
            zip.write_all(&data).map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    if let Err(error) = write_all() {
        broken.set(true);
        drop(zip);
        return Err(error);
    }
    zip.finish()
        .map_err(|e| e.to_string())?
        .into_inner()
        .flush()
        .map_err(|e| e.to_string())
}
