//! Evidence exports from an incident: chosen cameras and a range become each camera's
//! recorder's signed export, kept as the files of a note on the incident, with an evidence
//! lock on the range, and checked again on request.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// `POST /api/v1/incidents/{incident}/exports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct NewExport {
    /// Client-made id: the export's id (the same request again answers the same export).
    pub id: String,
    /// Cameras of the incident's site, each exported by the recorder that records it.
    pub cameras: Vec<String>,
    /// RFC 3339.
    pub from: String,
    /// RFC 3339; at most [`MAX_EXPORT_S`] after `from`.
    pub to: String,
    /// Why: written into the signed manifest and onto the evidence lock.
    pub reason: String,
}

/// The longest range one export holds, in seconds.
pub const MAX_EXPORT_S: i64 = 30 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "kebab-case")]
pub enum ExportState {
    Running,
    Done,
    Failed,
}

impl ExportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportState::Running => "running",
            ExportState::Done => "done",
            ExportState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Running, Self::Done, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// An export and how far it has come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct EvidenceExport {
    pub id: String,
    pub incident: String,
    pub site: String,
    pub cameras: Vec<String>,
    /// RFC 3339.
    pub from: String,
    pub to: String,
    pub reason: String,
    pub state: ExportState,
    /// Cameras exported so far, of `cameras.len()`.
    pub done: u32,
    /// The notes holding each camera's files, in the order they came.
    pub notes: Vec<String>,
    /// What went wrong, when it failed.
    #[ts(optional)]
    pub error: Option<String>,
    pub created_by: String,
    /// RFC 3339.
    pub created: String,
}

/// `GET /api/v1/exports/{export}/check`: the files kept on the hub checked again against
/// the manifests their recorders signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct ExportCheck {
    pub export: String,
    /// Every manifest's signature holds and every file it names is there, unchanged.
    pub verified: bool,
    pub manifests: Vec<ManifestCheck>,
}

/// One camera's signed manifest, as checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct ManifestCheck {
    pub note: String,
    /// The recorder that signed it, and its key (hex) as the hub knows it.
    pub recorder: String,
    pub recorder_key: String,
    pub signature_valid: bool,
    pub requested_by: String,
    pub reason: String,
    /// RFC 3339.
    pub from: String,
    pub to: String,
    pub files: Vec<FileCheck>,
}

/// One file a manifest names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct FileCheck {
    pub name: String,
    pub camera: String,
    pub bytes: u64,
    /// What the manifest says.
    pub sha256: String,
    /// The file is on the hub and hashes to it.
    pub intact: bool,
}

/// The format name of a recorder's export manifest; a verifier refuses others.
pub const EXPORT_FORMAT: &str = "watchfloor-export/1";

/// The signed description of a recorder's export (`manifest.json`, signed in `manifest.sig`):
/// what the recorder writes, what `watchfloor-recorder verify` and the hub check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportManifest {
    pub format: String,
    pub recorder: String,
    /// The recorder's public Ed25519 key, hex.
    pub recorder_key: String,
    pub requested_by: String,
    pub reason: String,
    pub created_us: i64,
    pub from_us: i64,
    pub to_us: i64,
    pub files: Vec<ExportedFile>,
}

/// One exported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedFile {
    pub name: String,
    pub camera: String,
    pub kind: String,
    /// The recorded range it holds; it starts at the key frame at or before `from_us`.
    pub from_us: i64,
    pub to_us: i64,
    pub bytes: u64,
    pub sha256: String,
}

impl ExportManifest {
    /// `SHA256SUMS` as the manifest implies it (`sha256sum -c` reads it; signed in
    /// `SHA256SUMS.sig`).
    pub fn sums(&self) -> String {
        self.files
            .iter()
            .map(|f| format!("{}  {}\n", f.sha256, f.name))
            .collect()
    }
}
