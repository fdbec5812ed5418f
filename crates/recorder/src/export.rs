//! Evidence export: a time range of one or more cameras as MP4 files, remuxed from the
//! recorded segments (never re-encoded), with a manifest that names each file, its camera,
//! range, size and SHA-256, who asked and which recorder made it, signed with the recorder's
//! Ed25519 key. [`verify`] checks a copied export offline; the folder also holds
//! `SHA256SUMS`, the public key as PEM and a `README.txt`, so that it can be checked with
//! `sha256sum` and `openssl` on a machine without Watchfloor.

use crate::config::StreamKind;
use crate::index::Index;
use crate::playback::{self, PlaybackError};
use gst::prelude::*;
use keys::SigningKey;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;

/// The manifest and its format: the contract's, which the hub reads too.
pub use contract::{EXPORT_FORMAT as FORMAT, ExportManifest as Manifest, ExportedFile};

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub streams: Vec<(String, StreamKind)>,
    pub from_us: i64,
    pub to_us: i64,
    /// Who asked, as the hub named them.
    pub requested_by: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Playback(#[from] PlaybackError),
    #[error("nothing recorded in that range")]
    Empty,
    #[error("the range is empty or reversed")]
    BadRange,
    #[error("{0}: {1}")]
    Io(String, String),
    #[error("remuxing {0}: {1}")]
    Remux(String, String),
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ExportError + '_ {
    move |e| ExportError::Io(path.display().to_string(), e.to_string())
}

/// Every element this module creates by name.
pub fn created_elements() -> Vec<&'static str> {
    vec!["mp4mux", "filesink"]
}

/// Writes the export into `out_dir` (which must not exist yet) and returns its manifest.
pub fn export(
    index: &Index,
    video_dir: &Path,
    recorder: &str,
    signer: &SigningKey,
    request: &ExportRequest,
    out_dir: &Path,
    now_us: i64,
) -> Result<Manifest, ExportError> {
    if request.to_us <= request.from_us {
        return Err(ExportError::BadRange);
    }
    std::fs::create_dir_all(out_dir.parent().unwrap_or(Path::new("."))).map_err(io(out_dir))?;
    std::fs::create_dir(out_dir).map_err(io(out_dir))?;
    let mut files = Vec::new();
    for (camera, kind) in &request.streams {
        let timeline = playback::timeline(index, camera, *kind, request.from_us, request.to_us)
            .map_err(PlaybackError::from)?;
        for (n, span) in timeline.spans.iter().enumerate() {
            let from_us = span.start_us.max(request.from_us);
            let to_us = span.end_us.min(request.to_us);
            let replay = playback::replay_from(index, video_dir, camera, *kind, from_us)?;
            let name = format!("{camera}-{}-{}.mp4", kind.as_str(), n + 1);
            let path = out_dir.join(&name);
            remux(&replay, to_us, &path)?;
            let (bytes, sha256) = digest(&path)?;
            files.push(ExportedFile {
                name,
                camera: camera.clone(),
                kind: kind.as_str().to_owned(),
                from_us,
                to_us,
                bytes,
                sha256,
            });
        }
    }
    if files.is_empty() {
        let _ = std::fs::remove_dir_all(out_dir);
        return Err(ExportError::Empty);
    }
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        recorder: recorder.to_owned(),
        recorder_key: signer.public_hex(),
        requested_by: request.requested_by.clone(),
        reason: request.reason.clone(),
        created_us: now_us,
        from_us: request.from_us,
        to_us: request.to_us,
        files,
    };
    let mut text = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| ExportError::Io("manifest.json".into(), e.to_string()))?;
    text.push(b'\n');
    let write = |name: &str, bytes: &[u8]| {
        let path = out_dir.join(name);
        std::fs::write(&path, bytes).map_err(io(&path))
    };
    write("manifest.json", &text)?;
    write("manifest.sig", &signer.sign(&text))?;
    write(
        "recorder-key.pem",
        keys::public_key_pem(&signer.public_hex()).as_bytes(),
    )?;
    let sums = manifest.sums();
    write("SHA256SUMS", sums.as_bytes())?;
    // Signed too, so that `sha256sum -c` plus `openssl` prove the files without Watchfloor.
    write("SHA256SUMS.sig", &signer.sign(sums.as_bytes()))?;
    write("README.txt", readme(&manifest).as_bytes())?;
    Ok(manifest)
}

/// Copies the recorded stream from the replay's instant to `to_us` into one MP4 file.
fn remux(replay: &playback::Replay, to_us: i64, path: &Path) -> Result<(), ExportError> {
    let name = path.display().to_string();
    let fail = |e: String| ExportError::Remux(name.clone(), e);
    let pipeline = gst::Pipeline::new();
    let source = replay.source()?;
    let muxer = gst::ElementFactory::make("mp4mux")
        .property("faststart", true)
        .build()
        .map_err(|_| PlaybackError::from(elements::MissingElements::one("mp4mux")))?;
    let sink = gst::ElementFactory::make("filesink")
        .property("location", path.to_string_lossy().as_ref())
        .property("sync", false)
        .build()
        .map_err(|_| PlaybackError::from(elements::MissingElements::one("filesink")))?;
    pipeline
        .add_many([&source, &muxer, &sink])
        .map_err(|e| fail(e.to_string()))?;
    muxer.link(&sink).map_err(|e| fail(e.to_string()))?;
    let weak_muxer = muxer.downgrade();
    source.connect_pad_added(move |_, pad| {
        if let Some(muxer) = weak_muxer.upgrade()
            && let Some(sink) = muxer.request_pad_simple("video_%u")
        {
            let _ = pad.link(&sink);
        }
    });
    let run = || -> Result<(), String> {
        pipeline
            .set_state(gst::State::Paused)
            .map_err(|e| e.to_string())?;
        let bus = pipeline.bus().ok_or("no bus")?;
        wait_for(&bus, |m| {
            matches!(m.view(), gst::MessageView::AsyncDone(_)).then_some(Ok(()))
        })?;
        let start = replay.offset();
        let stop = start + gst::ClockTime::from_useconds((to_us - replay.at_us).max(0) as u64);
        // From the key frame at or before the start (a player needs it), to the end. Sent to
        // the source's pad: through the pipeline it would also reach the muxer, which has no
        // time to seek in.
        let seek = gst::event::Seek::new(
            1.0,
            gst::SeekFlags::FLUSH | gst::SeekFlags::KEY_UNIT | gst::SeekFlags::SNAP_BEFORE,
            gst::SeekType::Set,
            start,
            gst::SeekType::Set,
            stop,
        );
        source
            .src_pads()
            .first()
            .ok_or("the recording has no stream")?
            .send_event(seek)
            .then_some(())
            .ok_or_else(|| "cannot seek: the recording refused the seek".to_owned())?;
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| e.to_string())?;
        wait_for(&bus, |m| {
            matches!(m.view(), gst::MessageView::Eos(_)).then_some(Ok(()))
        })
    };
    let outcome = run();
    let _ = pipeline.set_state(gst::State::Null);
    outcome.map_err(fail)
}

/// Pops bus messages until `done` answers or an error comes; at most a minute.
fn wait_for(
    bus: &gst::Bus,
    done: impl Fn(&gst::Message) -> Option<Result<(), String>>,
) -> Result<(), String> {
    let until = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < until {
        let Some(message) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else {
            continue;
        };
        if let gst::MessageView::Error(e) = message.view() {
            return Err(format!("{} ({:?})", e.error(), e.debug()));
        }
        if let Some(outcome) = done(&message) {
            return outcome;
        }
    }
    Err("timed out".into())
}

/// A file's size and SHA-256 (hex).
fn digest(path: &Path) -> Result<(u64, String), ExportError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(io(path))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((total, hex::encode(hasher.finalize())))
}

fn readme(manifest: &Manifest) -> String {
    format!(
        "Watchfloor evidence export\n\
         ==========================\n\n\
         Made by recorder `{recorder}` for {who} ({reason}).\n\
         The MP4 files play in any video player (VLC, a web browser, GStreamer).\n\n\
         manifest.json lists each file with its camera, its time range (microseconds since\n\
         1970-01-01 UTC), its size and its SHA-256. manifest.sig is the recorder's Ed25519\n\
         signature of manifest.json, exactly as stored; recorder-key.pem is the recorder's\n\
         public key, whose hex form is also in the manifest:\n\n    {key}\n\n\
         Compare that key with the one your Watchfloor hub lists for the recorder: a matching\n\
         signature proves the manifest is the recorder's only if the key is.\n\n\
         To verify with Watchfloor:\n\n    watchfloor-recorder verify .\n\n\
         To verify without it (coreutils and OpenSSL 3), first that the list of hashes is the\n\
         recorder's, then that the files match it:\n\n    \
         openssl pkeyutl -verify -pubin -inkey recorder-key.pem -rawin \\\n        \
         -in SHA256SUMS -sigfile SHA256SUMS.sig\n    \
         sha256sum -c SHA256SUMS\n\n\
         and that the manifest is:\n\n    \
         openssl pkeyutl -verify -pubin -inkey recorder-key.pem -rawin \\\n        \
         -in manifest.json -sigfile manifest.sig\n\n\
         The key in recorder-key.pem must be the one your hub lists for the recorder:\n\n    \
         openssl pkey -pubin -in recorder-key.pem -text -noout\n\n\
         prints it (the 32 bytes after `pub:`); it must read {key}.\n",
        recorder = manifest.recorder,
        who = manifest.requested_by,
        reason = manifest.reason,
        key = manifest.recorder_key,
    )
}

/// Why an export does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("cannot read {0}: {1}")]
    Read(String, String),
    #[error("manifest.json is not a Watchfloor export manifest: {0}")]
    Malformed(String),
    #[error("the signature does not match manifest.json: it was changed after signing")]
    BadSignature,
    #[error("signed by {found}, not by the expected recorder key {expected}")]
    WrongKey { expected: String, found: String },
    #[error("{name} was changed: {reason}")]
    FileChanged { name: String, reason: String },
    #[error("{0} does not match the signed manifest")]
    Inconsistent(&'static str),
}

/// Checks an export folder offline: the manifest's signature (with `expected_key` when given,
/// else the key the manifest names), then each file's size and SHA-256.
pub fn verify(dir: &Path, expected_key: Option<&str>) -> Result<Manifest, VerifyError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path)
            .map_err(|e| VerifyError::Read(path.display().to_string(), e.to_string()))
    };
    let text = read("manifest.json")?;
    let signature = read("manifest.sig")?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    if manifest.format != FORMAT {
        return Err(VerifyError::Malformed(format!(
            "format `{}`, expected `{FORMAT}`",
            manifest.format
        )));
    }
    if manifest.files.is_empty() {
        return Err(VerifyError::Malformed("it lists no files".into()));
    }
    let key = expected_key.unwrap_or(&manifest.recorder_key);
    if !keys::verify(key, &text, &hex::encode(signature)) {
        return Err(if key != manifest.recorder_key {
            VerifyError::WrongKey {
                expected: key.to_owned(),
                found: manifest.recorder_key.clone(),
            }
        } else {
            VerifyError::BadSignature
        });
    }
    // The offline helpers must tell the same story as the manifest.
    let sums = manifest.sums();
    if read("SHA256SUMS")? != sums.as_bytes() {
        return Err(VerifyError::Inconsistent("SHA256SUMS"));
    }
    if !keys::verify(key, sums.as_bytes(), &hex::encode(read("SHA256SUMS.sig")?)) {
        return Err(VerifyError::Inconsistent("SHA256SUMS.sig"));
    }
    if read("recorder-key.pem")? != keys::public_key_pem(&manifest.recorder_key).as_bytes() {
        return Err(VerifyError::Inconsistent("recorder-key.pem"));
    }
    for file in &manifest.files {
        if file.name.contains('/') || file.name.contains('\\') || file.name.starts_with('.') {
            return Err(VerifyError::Malformed(format!("file name `{}`", file.name)));
        }
        let path = dir.join(&file.name);
        let (bytes, sha256) = digest(&path).map_err(|e| VerifyError::FileChanged {
            name: file.name.clone(),
            reason: e.to_string(),
        })?;
        if bytes != file.bytes || sha256 != file.sha256 {
            return Err(VerifyError::FileChanged {
                name: file.name.clone(),
                reason: format!(
                    "{bytes} bytes with SHA-256 {sha256}, the manifest says {} bytes with {}",
                    file.bytes, file.sha256
                ),
            });
        }
    }
    Ok(manifest)
}
