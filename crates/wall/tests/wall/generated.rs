//! What the UI takes from this crate is generated, committed, and checked here for drift.

/// The console's layout picker reads the presets generated from this crate; they must match.
#[test]
fn the_ui_has_the_current_presets() {
    let path = std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"),
    )
    .join("../../ui/src/generated/presets.json");
    let committed = std::fs::read_to_string(&path).expect("ui/src/generated/presets.json");
    assert!(
        committed == wall::layout::presets_json(),
        "{} is out of date: run `cargo xtask codegen`",
        path.display()
    );
}
