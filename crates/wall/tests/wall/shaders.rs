//! Every `.wgsl` file under `shaders/` parses and validates with naga, with no GPU needed.

#[test]
fn every_wgsl_file_validates() {
    let dir = std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"),
    )
    .join("../../shaders");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("shaders folder") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("wgsl") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("read");
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&source)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        for entry_point in ["vs_tile", "fs_tile", "vs_overlay", "fs_overlay"] {
            if path.file_name().and_then(|n| n.to_str()) == Some("wall.wgsl") {
                assert!(
                    module.entry_points.iter().any(|e| e.name == entry_point),
                    "{entry_point} is missing"
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 1, "no shaders found in {}", dir.display());
}
