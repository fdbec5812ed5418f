//! What the UI takes from this crate is generated, committed, and checked here for drift.

/// The console's layout picker reads the presets generated from this crate; they must match.
#[test]
fn generated_the_layout_presets() {
    testkit::generated(
        "ui/src/generated/presets.json",
        &wall::layout::presets_json(),
    );
}
