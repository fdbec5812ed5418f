//! The hub's side of the wire contract: the types themselves live in the `contract` crate (one
//! definition for the hub, the app and the console); here is only what reads the hub's own
//! inputs into them.

pub use contract::{
    alarms::*, auth::*, bookmarks::*, error::*, events::*, exports::*, feed::*, incidents::*,
    layouts::*, recorders::*, rights::*, site::*,
};

/// A site file and its floor plans (read from beside it), without streams or controller.
pub fn site_import(path: &std::path::Path) -> crate::Result<SiteImport> {
    let site = site::Site::load(path).map_err(|e| crate::HubError::BadRequest(e.to_string()))?;
    let mut plans = std::collections::BTreeMap::new();
    for floor in &site.floors {
        let svg = std::fs::read_to_string(&floor.plan).map_err(|e| {
            crate::HubError::BadRequest(format!("cannot read plan {}: {e}", floor.plan.display()))
        })?;
        plans.insert(floor.id.clone(), svg);
    }
    let mut value =
        serde_json::to_value(&site).map_err(|e| crate::HubError::Internal(e.to_string()))?;
    // Plans travel as content; the paths are only this machine's business.
    for floor in value["floors"].as_array_mut().into_iter().flatten() {
        let name = format!("{}.svg", floor["id"].as_str().unwrap_or("plan"));
        floor["plan"] = serde_json::Value::String(name);
    }
    Ok(SiteImport {
        site: value,
        plans,
        streams: Default::default(),
        controller_url: None,
        controller_source: None,
    })
}

/// Stream URLs by camera id from a simulator's (or recorder's) listing, `GET /api/v1/site`:
/// `{"cameras":[{"id":..,"streams":[{"kind":"main","url":..},{"kind":"sub","url":..}]}]}`.
/// Cameras without both streams are left out.
pub fn streams_from_listing(
    listing: &serde_json::Value,
) -> std::collections::BTreeMap<String, CameraStreams> {
    let mut streams = std::collections::BTreeMap::new();
    for camera in listing["cameras"].as_array().into_iter().flatten() {
        let url = |kind: &str| {
            camera["streams"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["kind"].as_str() == Some(kind))
                .and_then(|s| s["url"].as_str())
                .map(str::to_owned)
        };
        if let (Some(id), Some(main_url), Some(sub_url)) =
            (camera["id"].as_str(), url("main"), url("sub"))
        {
            streams.insert(
                id.to_owned(),
                CameraStreams {
                    main_url,
                    sub_url,
                    credential_ref: None,
                    recorder: None,
                },
            );
        }
    }
    streams
}
