//! The console's TypeScript for what the app core sends and takes over Tauri IPC, generated
//! from these types into `ui/src/generated/app.ts` (the hub's own types are in `hub.ts`, from
//! the contract). A unit test fails when the committed file differs; `cargo xtask codegen`
//! writes it anew.

use contract::typescript::{HEADER, config, hub_type_names};

/// `ui/src/generated/app.ts`.
pub fn app_ts() -> String {
    use crate::walls::*;
    let cfg = config();
    let (body, _) = contract::declarations!(&cfg;
        crate::error::ErrorCode, crate::error::AppError,
        crate::connection::Link, crate::connection::ConnectionState,
        crate::profile::LastSignIn, crate::core::Startup, crate::core::SignIn,
        crate::cameras::KnownCamera, crate::cameras::FloorTree, crate::cameras::SiteTree,
        wall::NormRect, wall::PixelRect, wall::WallLayout,
        TileTour, AlarmHold, WallState, TileReplayView, PlaybackView, WallView, Monitor,
        crate::core::PlaybackControl,
        media::StreamState, media::StreamHealth, ReplayShown, TileHealth,
        crate::core::Snapshot, crate::core::WriteOutcome,
        crate::outbox::OutboxItem, crate::outbox::OutboxView,
        crate::core::AppEvent,
    );
    // The hub's types this file uses (in code, not in comments), imported from beside it.
    let code = without_comments(&body);
    let used: Vec<String> = hub_type_names()
        .into_iter()
        .filter(|name| uses(&code, name))
        .collect();
    format!(
        "{HEADER}\nimport type {{ {} }} from \"./hub\";\n\n{body}",
        used.join(", ")
    )
}

/// `text` without its `/** ... */` comments.
fn without_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("/**") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out
}

/// Whether `name` occurs in `text` as a whole word.
fn uses(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !word(before) && !word(after)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_the_consoles_app_types() {
        testkit::generated("ui/src/generated/app.ts", &super::app_ts());
    }

    #[test]
    fn whole_words_only() {
        assert!(super::uses("a: Caller, b", "Caller"));
        assert!(!super::uses("a: CallerX", "Caller"));
        assert!(!super::uses("Session2", "Session"));
        assert_eq!(super::without_comments("a /** Caller */ b /** c"), "a  b ");
    }
}
