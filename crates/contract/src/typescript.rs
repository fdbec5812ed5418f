//! The console's TypeScript for the contract, generated from these types (ts-rs) into
//! `ui/src/generated/hub.ts`. The contract's test fails when the committed file differs;
//! `cargo xtask codegen` writes it anew.

use ts_rs::{Config, TS};

/// The header every generated TypeScript file starts with.
pub const HEADER: &str =
    "// Generated from the Rust types by `cargo xtask codegen`; do not edit.\n";

/// How ts-rs writes our types: 64-bit integers are JSON numbers (sequence numbers and
/// milliseconds stay far below 2^53).
pub fn config() -> Config {
    Config::new().with_large_int("number")
}

/// `export type X = ...;` for one type.
pub fn declaration<T: TS + ?Sized>(cfg: &Config) -> String {
    let mut text = String::new();
    if let Some(docs) = T::docs() {
        text.push_str(&docs);
    }
    text.push_str("export ");
    text.push_str(&T::decl(cfg));
    text.push('\n');
    text
}

/// The name `T` is declared under.
pub fn ident<T: TS + ?Sized>(cfg: &Config) -> String {
    T::ident(cfg)
}

/// The declarations of the types given, one after another, and their names:
/// `declarations!(&cfg; A, B, C)`. Every generated file is made with it.
#[macro_export]
macro_rules! declarations {
    ($cfg:expr; $($t:ty),* $(,)?) => {
        (
            [$($crate::typescript::declaration::<$t>($cfg)),*].join("\n"),
            vec![$($crate::typescript::ident::<$t>($cfg)),*],
        )
    };
}

/// The names `hub_ts` declares, for files that import them.
pub fn hub_type_names() -> Vec<String> {
    hub_declarations().1
}

/// `ui/src/generated/hub.ts`: every contract type, in one file, and the rights matrix (so the
/// console offers only what the hub will allow, without re-typing who may do what).
pub fn hub_ts() -> String {
    let matrix: serde_json::Map<String, serde_json::Value> = crate::rights_matrix()
        .into_iter()
        .map(|row| {
            let rights = row
                .rights
                .iter()
                .filter_map(|r| serde_json::to_value(r).ok());
            (row.role.as_str().to_owned(), rights.collect())
        })
        .collect();
    let matrix = serde_json::to_string(&matrix).unwrap_or_default();
    format!(
        "{HEADER}\n{}\n/** What each role may do (`Role::allows`). */\nexport const RIGHTS: Record<Role, readonly Right[]> = {matrix};\n",
        hub_declarations().0
    )
}

fn hub_declarations() -> (String, Vec<String>) {
    use crate::*;
    let cfg = config();
    crate::declarations!(&cfg;
        ErrorCode, ErrorBody,
        Role, Right, RightsRow, Grant, Caller,
        Health, Login, Session, BrowserSession, User, NewUser, GrantsBody, NewSource,
        PasswordReset, PasswordChange, SessionInfo,
        SourceSecret, Settings, CameraViewed,
        SiteSummary, Floor, Zone, Camera, Door, SiteDetail, CameraStreams, SiteImport,
        DoorCommandRequest, LockdownRequest,
        Event, EventFilter, IngestEvent, IngestStatus, Outcome, IngestResult,
        AlarmState, Alarm, AlarmRule, AlarmFilter, AlarmAction,
        IncidentStatus, IncidentLink, AttachmentRef, IncidentNote, Incident, IncidentDetail,
        AuditRecord, NewIncident, IncidentPatch, NewAttachment, NewNote, IncidentFilter,
        AuditFilter,
        Tour, LayoutBody, SavedLayout,
        NewBookmark, Bookmark, BookmarkLink, BookmarkFilter,
        NewExport, ExportState, EvidenceExport, ExportCheck, ManifestCheck, FileCheck,
        Recorder, CameraRecorder, StreamName, StreamMode, TicketRequest, StreamTicket,
        EvidenceLock, NewEvidenceLock, LockFilter, RecordingRange, RecordingState, StreamHealthReport,
        StorageReport, RefusedTicket, RecorderReport, RecorderSync, RecorderHealth, CameraEvent,
        RecordingTimeline, RecordedSpan, RecordingGap, RecordingLock,
        ClientMessage, FeedMessage, Change, ChangeBody, Removed,
    )
}
