//! An export is the recorded range remuxed, signed, and verifiable offline; any changed byte
//! fails verification.

use crate::support::*;
use recorder::config::StreamKind;
use recorder::export::{self, ExportRequest, VerifyError};
use recorder::{Index, recording};
use std::process::Command;

#[test]
fn an_export_verifies_offline_and_a_changed_byte_fails() {
    let sim = site(1);
    let config = config(&sim, "export", "", "main");
    let recorder = record_until(&config, StreamKind::Main, 4);
    drop(recorder);
    let segments = segments(&config, "cam01", StreamKind::Main);
    let from_us = segments[2].start_us + 500_000;
    let to_us = segments[3].start_us + 500_000;
    let index = Index::open(&config.index_path()).expect("index");
    let signer = keys::SigningKey::ephemeral();
    let out = testkit::scratch("recorder-export-out").join("evidence");
    let manifest = export::export(
        &index,
        &config.video_dir(),
        "rec-test",
        &signer,
        &ExportRequest {
            streams: vec![("cam01".into(), StreamKind::Main)],
            from_us,
            to_us,
            requested_by: "alice".into(),
            reason: "incident 7".into(),
        },
        &out,
        recording::now_us(),
    )
    .expect("export");
    assert_eq!(manifest.files.len(), 1);

    // The file plays: its frames run from the key frame before `from` to `to`.
    let file = out.join(&manifest.files[0].name);
    let stamps = decode_file(&file);
    let first = stamps.first().expect("frames");
    let last = stamps.last().expect("frames");
    let from_ms = (from_us / 1000) as u64;
    let to_ms = (to_us / 1000) as u64;
    assert!(
        (0..=2_100).contains(&first.latency_ms(from_ms)),
        "starts at the key frame at or before `from`: {first:?}"
    );
    assert!(last.latency_ms(to_ms).abs() <= 80, "ends at `to`: {last:?}");
    for pair in stamps.windows(2) {
        assert_eq!(pair[1].frames_since(&pair[0]), 1, "no frame lost");
    }

    // Another "machine": a copy of the folder, checked with nothing but the folder.
    let copy = testkit::scratch("recorder-export-copy").join("evidence");
    std::fs::create_dir_all(&copy).expect("copy dir");
    for entry in std::fs::read_dir(&out).expect("list") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), copy.join(entry.file_name())).expect("copy");
    }
    let verified = export::verify(&copy, Some(&signer.public_hex())).expect("verifies");
    assert_eq!(verified, manifest);
    let cli = Command::new(env!("CARGO_BIN_EXE_watchfloor-recorder"))
        .args([
            "verify",
            copy.to_str().expect("path"),
            "--key",
            &signer.public_hex(),
        ])
        .output()
        .expect("verify runs");
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    // Without Watchfloor: the README's commands.
    testkit::verify_export_without_watchfloor(&copy).expect("the README's checks");

    // One changed byte in the video.
    let video = copy.join(&manifest.files[0].name);
    let original = std::fs::read(&video).expect("read");
    let mut changed = original.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 1;
    std::fs::write(&video, &changed).expect("write");
    assert!(matches!(
        export::verify(&copy, Some(&signer.public_hex())),
        Err(VerifyError::FileChanged { .. })
    ));
    let cli = Command::new(env!("CARGO_BIN_EXE_watchfloor-recorder"))
        .args(["verify", copy.to_str().expect("path")])
        .output()
        .expect("verify runs");
    assert!(!cli.status.success());
    assert!(String::from_utf8_lossy(&cli.stderr).contains("was changed"));
    std::fs::write(&video, &original).expect("restore");

    // One changed byte in the manifest.
    let path = copy.join("manifest.json");
    let text = std::fs::read_to_string(&path).expect("manifest");
    std::fs::write(&path, text.replace("incident 7", "incident 8")).expect("write");
    assert_eq!(
        export::verify(&copy, Some(&signer.public_hex())),
        Err(VerifyError::BadSignature)
    );
    std::fs::write(&path, &text).expect("restore");
    // A changed video with SHA256SUMS changed to match: the list's signature fails.
    let sums_path = copy.join("SHA256SUMS");
    let sums = std::fs::read_to_string(&sums_path).expect("sums");
    std::fs::write(
        &sums_path,
        sums.replacen(&manifest.files[0].sha256, &"0".repeat(64), 1),
    )
    .expect("write");
    let said = testkit::verify_export_without_watchfloor(&copy).expect_err("refused");
    assert!(
        said.contains("SHA256SUMS.sig"),
        "the list's signature fails: {said}"
    );
    assert_eq!(
        export::verify(&copy, Some(&signer.public_hex())),
        Err(VerifyError::Inconsistent("SHA256SUMS"))
    );
    std::fs::write(&sums_path, &sums).expect("restore");
    // Another key's PEM beside the manifest.
    let pem_path = copy.join("recorder-key.pem");
    let pem = std::fs::read(&pem_path).expect("pem");
    std::fs::write(
        &pem_path,
        b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n",
    )
    .expect("write");
    assert_eq!(
        export::verify(&copy, None),
        Err(VerifyError::Inconsistent("recorder-key.pem"))
    );
    std::fs::write(&pem_path, pem).expect("restore");
    // Signed, but by another key than the hub lists for the recorder.
    let other = keys::SigningKey::ephemeral().public_hex();
    assert!(matches!(
        export::verify(&copy, Some(&other)),
        Err(VerifyError::WrongKey { .. })
    ));
    export::verify(&copy, None).expect("untouched again");
}
