//! Evidence exports from an incident, against a real recorder: a supervisor exports cam01's
//! range for an incident; the range is locked at once, the recorder's signed files arrive as a
//! note on the incident, and the hub's check of them against the signed manifest holds, until
//! one byte of the stored video changes. Someone of another site, a range too long and a
//! camera that is not there are refused; the same request again makes nothing twice.

use crate::on_both;
use crate::support::{Backend, SITE, TestHub};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

on_both!(an_incidents_evidence_export_is_signed_kept_locked_and_checked);
async fn an_incidents_evidence_export_is_signed_kept_locked_and_checked(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let admin = hub.login("it-admin").await;
    let recorder = hub
        .playback_recorder(&format!("export-recorder-{backend:?}"))
        .await;
    let (status, saved) = hub
        .register_recorder(&admin, "rec-1", &recorder.key, Some(&recorder.playback))
        .await;
    assert_eq!(status, 200, "{saved}");
    let supervisor = hub.login("supervisor").await;
    let (status, made) = hub
        .call(
            Method::POST,
            "/api/v1/incidents",
            &supervisor,
            Some(
                json!({"id": "inc-export", "site": SITE, "title": "Forced door at the dock",
                        "priority": 2, "links": []}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let cookie = hub.browser_cookie("supervisor").await;
    let (span_from, _) = hub.recorded_span(&cookie).await;
    let from = chrono::DateTime::parse_from_rfc3339(&span_from).expect("from")
        + chrono::TimeDelta::milliseconds(500);
    let to = from + chrono::TimeDelta::seconds(2);
    let at = |t: chrono::DateTime<chrono::FixedOffset>| {
        t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let path = "/api/v1/incidents/inc-export/exports";
    let new = json!({"id": "exp-1", "cameras": ["cam01"], "from": at(from), "to": at(to),
                     "reason": "Forced door at the dock"});

    // Refused: a guard of another site, a range too long, a camera not there.
    let outsider = hub.login("other-guard").await;
    let (status, _) = hub
        .call(Method::POST, path, &outsider, Some(new.clone()))
        .await;
    assert!(
        status == 403 || status == 404,
        "another site's guard: {status}"
    );
    let mut long = new.clone();
    long["to"] = json!(at(from + chrono::TimeDelta::minutes(31)));
    long["id"] = json!("exp-long");
    let (status, _) = hub.call(Method::POST, path, &supervisor, Some(long)).await;
    assert_eq!(status, 400, "at most half an hour");
    let mut elsewhere = new.clone();
    elsewhere["cameras"] = json!(["cam99"]);
    elsewhere["id"] = json!("exp-elsewhere");
    let (status, _) = hub
        .call(Method::POST, path, &supervisor, Some(elsewhere))
        .await;
    assert_eq!(status, 404, "no such camera");

    // Export tickets are the hub's own: no client gets one.
    let (status, refused) = hub
        .call(
            Method::POST,
            &format!("/api/v1/sites/{SITE}/cameras/cam01/ticket"),
            &supervisor,
            Some(json!({"stream": "sub", "mode": "export"})),
        )
        .await;
    assert_eq!(status, 400, "{refused}");

    // Started: the range is locked at once; the same request again is the same export.
    let (status, started) = hub
        .call(Method::POST, path, &supervisor, Some(new.clone()))
        .await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["state"], "running");
    let (status, again) = hub.call(Method::POST, path, &supervisor, Some(new)).await;
    assert_eq!((status, &again["id"]), (200, &json!("exp-1")), "{again}");
    let (_, locks) = hub
        .call(
            Method::GET,
            &format!("/api/v1/sites/{SITE}/locks"),
            &supervisor,
            None,
        )
        .await;
    assert!(
        locks
            .as_array()
            .is_some_and(|l| l.iter().any(|lock| lock["camera"] == "cam01"
                && lock["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("inc-export")))),
        "{locks}"
    );

    // Done: the files are a note on the incident.
    let deadline = Instant::now() + Duration::from_secs(60);
    let export = loop {
        let (status, list) = hub.call(Method::GET, path, &supervisor, None).await;
        assert_eq!(status, 200, "{list}");
        let export = list[0].clone();
        if export["state"] != "running" {
            break export;
        }
        assert!(
            Instant::now() < deadline,
            "the export never ended: {export}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(export["state"], "done", "{export}");
    assert_eq!(export["done"], 1);
    let (_, detail) = hub
        .call(
            Method::GET,
            "/api/v1/incidents/inc-export",
            &supervisor,
            None,
        )
        .await;
    let note = detail["notes"]
        .as_array()
        .and_then(|notes| notes.iter().find(|n| n["id"] == export["notes"][0]))
        .cloned()
        .unwrap_or_else(|| panic!("no export note: {detail}"));
    let names: Vec<&str> = note["attachments"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["name"].as_str()).collect())
        .unwrap_or_default();
    for name in [
        "manifest.json",
        "manifest.sig",
        "SHA256SUMS",
        "SHA256SUMS.sig",
        "recorder-key.pem",
        "README.txt",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let video = note["attachments"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["media_type"] == "video/mp4"))
        .cloned()
        .unwrap_or_else(|| panic!("no video in {names:?}"));
    assert!(video["size"].as_i64().is_some_and(|s| s > 1000), "{video}");

    // Checked: the signature with the recorder's key the hub knows, each file's SHA-256.
    let check_path = "/api/v1/exports/exp-1/check";
    let (status, check) = hub.call(Method::GET, check_path, &supervisor, None).await;
    assert_eq!(status, 200, "{check}");
    assert_eq!(check["verified"], true, "{check}");
    assert_eq!(check["manifests"][0]["recorder"], "rec-1");
    assert_eq!(check["manifests"][0]["signature_valid"], true);
    let (status, _) = hub.call(Method::GET, check_path, &outsider, None).await;
    assert!(
        status == 403 || status == 404,
        "another site's guard: {status}"
    );

    // One download of the whole folder, audited, which the tools its README names verify on
    // a machine without Watchfloor: `unzip`, `openssl` and `sha256sum`.
    let download = hub
        .http
        .get(hub.url("/api/v1/exports/exp-1/download"))
        .bearer_auth(&supervisor)
        .send()
        .await
        .expect("the download");
    assert_eq!(download.status().as_u16(), 200);
    assert_eq!(
        download.headers()["content-type"].to_str().ok(),
        Some("application/zip")
    );
    let zipped = download.bytes().await.expect("the zip");
    let dir = testkit::scratch("hub-export-download");
    std::fs::write(dir.join("export.zip"), &zipped).expect("write the zip");
    let run = |program: &str, args: &[&str], at: &std::path::Path| {
        let out = std::process::Command::new(program)
            .args(args)
            .current_dir(at)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run("unzip", &["-q", "export.zip"], &dir);
    // Dated when the recorder made them, not 1980.
    let listing = run("unzip", &["-l", "export.zip"], &dir);
    assert!(!listing.contains("1980-"), "{listing}");
    let folder = dir.join("evidence-exp-1").join("cam01");
    for name in &names {
        assert!(folder.join(name).is_file(), "{name} in the download");
    }
    testkit::verify_export_without_watchfloor(&folder).expect("the README's checks");
    assert_eq!(
        hub.audit(&supervisor, "export.downloaded").await.len(),
        1,
        "the download is audited"
    );
    let (status, _) = hub
        .call(
            Method::GET,
            "/api/v1/exports/exp-1/download",
            &outsider,
            None,
        )
        .await;
    assert!(
        status == 403 || status == 404,
        "another site's guard downloads nothing: {status}"
    );

    // The recorder's answer is taken only as exactly what was asked of the camera's recorder.
    // A genuine export of this range, handed in for an export of another range: refused.
    let caller = hub
        .running
        .hub
        .authenticate(&supervisor)
        .await
        .expect("the supervisor");
    let note = export["notes"][0].as_str().expect("the export's note");
    let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT a.name, f.media_type, f.data FROM note_attachments a \
         JOIN attachments f ON f.sha256 = a.sha256 WHERE a.note_id = $1",
    )
    .bind(note)
    .fetch_all(hub.running.hub.db.pool())
    .await
    .expect("the kept files");
    let attach = |rows: &[(String, String, Vec<u8>)]| -> Vec<contract::NewAttachment> {
        use base64::Engine;
        rows.iter()
            .map(|(name, media_type, data)| contract::NewAttachment {
                name: name.clone(),
                media_type: media_type.clone(),
                data: base64::engine::general_purpose::STANDARD.encode(data),
            })
            .collect()
    };
    let (other, _) = hub
        .running
        .hub
        .create_export(
            &caller,
            "inc-export",
            contract::NewExport {
                id: "exp-other".into(),
                cameras: vec!["cam01".into()],
                from: at(from + chrono::TimeDelta::seconds(1)),
                to: at(to + chrono::TimeDelta::seconds(1)),
                reason: "Forced door at the dock".into(),
            },
        )
        .await
        .expect("another export");
    let (status, said) = hub
        .call(
            Method::GET,
            "/api/v1/exports/exp-other/download",
            &supervisor,
            None,
        )
        .await;
    assert_eq!(
        status, 409,
        "an unfinished export does not download: {said}"
    );
    let refused = |files| {
        let hub = hub.running.hub.clone();
        let (caller, id) = (caller.clone(), other.id.clone());
        async move {
            hub.export_arrived(&caller, &id, "cam01", "rec-1", files)
                .await
                .expect_err("refused")
                .to_string()
        }
    };
    let said = refused(attach(&rows)).await;
    assert!(said.contains("not what was asked"), "{said}");
    // Signed by a key that is not the camera's recorder's: refused.
    let forger = keys::SigningKey::ephemeral();
    let mut forged = rows.clone();
    for (name, _, data) in &mut forged {
        if name == "manifest.json" {
            let mut manifest: Value = serde_json::from_slice(data).expect("manifest");
            manifest["recorder_key"] = json!(forger.public_hex());
            manifest["from_us"] = json!((from.timestamp_millis() + 1000) * 1000);
            manifest["to_us"] = json!((to.timestamp_millis() + 1000) * 1000);
            *data = serde_json::to_vec_pretty(&manifest).expect("json");
        }
    }
    let text = forged
        .iter()
        .find(|(n, _, _)| n == "manifest.json")
        .map(|(_, _, d)| d.clone())
        .expect("manifest");
    for (name, _, data) in &mut forged {
        if name == "manifest.sig" {
            *data = forger.sign(&text);
        }
    }
    let said = refused(attach(&forged)).await;
    assert!(
        said.contains("does not verify") || said.contains("signature"),
        "{said}"
    );
    // A file with a path for a name: refused.
    let mut pathed = rows.clone();
    pathed[0].0 = "../escape".into();
    let said = refused(attach(&pathed)).await;
    assert!(said.contains("names a file"), "{said}");

    // One byte of the kept video changes: the check says so, and names the file.
    let pool = hub.running.hub.db.pool();
    let sha = video["sha256"].as_str().expect("sha256");
    let mut data: Vec<u8> = sqlx::query_scalar("SELECT data FROM attachments WHERE sha256 = $1")
        .bind(sha)
        .fetch_one(pool)
        .await
        .expect("the stored video");
    let middle = data.len() / 2;
    data[middle] ^= 0x01;
    sqlx::query("UPDATE attachments SET data = $1 WHERE sha256 = $2")
        .bind(data)
        .bind(sha)
        .execute(pool)
        .await
        .expect("a changed byte");
    let (status, check) = hub.call(Method::GET, check_path, &supervisor, None).await;
    assert_eq!(status, 200, "{check}");
    assert_eq!(check["verified"], false, "{check}");
    let broken: Vec<&Value> = check["manifests"][0]["files"]
        .as_array()
        .map(|files| files.iter().filter(|f| f["intact"] == false).collect())
        .unwrap_or_default();
    assert_eq!(broken.len(), 1, "{check}");
    assert_eq!(broken[0]["name"], video["name"]);
    // A file the hub can no longer read (its bytes gone from the database): the download
    // stops with an error, never as a ZIP that looks whole without it.
    sqlx::query("DELETE FROM attachments WHERE sha256 = $1")
        .bind(sha)
        .execute(pool)
        .await
        .expect("the video's bytes gone");
    let mut cut = hub
        .http
        .get(hub.url("/api/v1/exports/exp-1/download"))
        .bearer_auth(&supervisor)
        .send()
        .await
        .expect("the download starts");
    assert_eq!(
        cut.status().as_u16(),
        200,
        "it starts before the file is read"
    );
    // What a lenient client keeps of it has no end of a ZIP (its central directory's end
    // record), and the answer breaks off.
    let mut kept = Vec::new();
    let ended = loop {
        match cut.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
            Ok(None) => break "whole",
            Err(_) => break "broken off",
        }
    };
    assert_eq!(ended, "broken off", "the answer ends in an error");
    assert!(
        !kept.windows(4).any(|w| w == b"PK\x05\x06"),
        "no ZIP ending after a missing file ({} bytes kept)",
        kept.len()
    );
    // An export still running when the hub stops fails, saying so, when it starts again.
    sqlx::query("UPDATE evidence_exports SET state = 'running' WHERE id = 'exp-1'")
        .execute(pool)
        .await
        .expect("running again");
    assert_eq!(
        hub.running
            .hub
            .interrupted_exports()
            .await
            .expect("interrupted"),
        2,
        "exp-1 running again, and the other export whose files were refused"
    );
    let (_, list) = hub.call(Method::GET, path, &supervisor, None).await;
    let first = list
        .as_array()
        .and_then(|l| l.iter().find(|e| e["id"] == "exp-1"))
        .cloned()
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(first["state"], "failed", "{list}");
    assert!(
        first["error"]
            .as_str()
            .is_some_and(|e| e.contains("export again")),
        "{list}"
    );
    // Audited: who exported what.
    let audit = hub.audit(&admin, "incident.export").await;
    assert!(audit.iter().any(|a| a["target"] == "exp-1"), "{audit:?}");
    drop(recorder);
}
