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
