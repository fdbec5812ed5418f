//! The camera tree as this app knows it: sites, their floors and cameras, made from what the
//! hub lists and remembered in the profile, so walls play while the hub is unreachable.
//!
//! These are the app's own types, not the hub's wire types: a change on the wire must not
//! break a saved profile, so what is remembered is only what the app needs, read from the
//! contract in one place ([`SiteTree::from_hub`]).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;

/// A camera as the app needs it: what to call it, where it is, and how to reach its streams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct KnownCamera {
    pub id: String,
    pub floor: String,
    pub name: String,
    pub main_url: String,
    pub sub_url: String,
    /// The keychain entry holding the camera's password, if it has one.
    #[serde(default)]
    pub credential_ref: Option<String>,
    /// The site it belongs to (for its stream tickets).
    #[serde(default)]
    pub site: String,
    /// Its recorder's restream (`rtsp://host:port`), when a recorder serves it: the wall then
    /// opens `<recorder>/<camera>/<main|sub>` with a ticket from the hub, never the camera.
    #[serde(default)]
    pub recorder_url: Option<String>,
    /// Doors this camera watches.
    #[serde(default)]
    pub doors: Vec<String>,
}

/// A floor of a site with its cameras, for the camera tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FloorTree {
    pub id: String,
    pub name: String,
    pub cameras: Vec<KnownCamera>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SiteTree {
    pub id: String,
    pub name: String,
    pub floors: Vec<FloorTree>,
}

impl SiteTree {
    /// A site as the hub details it, floor by floor, with its recorders.
    pub fn from_hub(detail: &contract::SiteDetail, recorders: &[contract::Recorder]) -> Self {
        let floors = detail
            .floors
            .iter()
            .map(|floor| FloorTree {
                id: floor.id.clone(),
                name: floor.name.clone(),
                cameras: detail
                    .cameras
                    .iter()
                    .filter(|c| c.floor == floor.id)
                    .map(|c| KnownCamera {
                        id: c.id.clone(),
                        floor: c.floor.clone(),
                        name: c.name.clone(),
                        main_url: c.main_url.clone(),
                        sub_url: c.sub_url.clone(),
                        credential_ref: c.credential_ref.clone(),
                        site: detail.id.clone(),
                        recorder_url: c.recorder.as_ref().and_then(|id| {
                            recorders
                                .iter()
                                .find(|r| &r.id == id)
                                .map(|r| r.rtsp_url.clone())
                        }),
                        doors: c.doors.clone(),
                    })
                    .collect(),
            })
            .collect();
        Self {
            id: detail.id.clone(),
            name: detail.name.clone(),
            floors,
        }
    }
}

/// Cameras by id.
pub type Cameras = BTreeMap<String, KnownCamera>;

/// Every camera of `sites` by id.
pub fn index(sites: &[SiteTree]) -> Cameras {
    sites
        .iter()
        .flat_map(|s| s.floors.iter().flat_map(|f| f.cameras.iter()))
        .map(|c| (c.id.clone(), c.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_becomes_floors_of_cameras_and_an_index() {
        let detail: contract::SiteDetail = serde_json::from_value(serde_json::json!({
            "id": "hq", "name": "HQ",
            "floors": [
                {"id": "f1", "name": "Ground", "width": 10.0, "height": 5.0, "plan_url": "/p1"},
                {"id": "f2", "name": "First", "width": 10.0, "height": 5.0, "plan_url": "/p2"}
            ],
            "zones": [],
            "cameras": [
                {"id": "c1", "floor": "f2", "name": "Lift", "main_url": "rtsp://h/c1",
                 "sub_url": "rtsp://h/c1s", "credential_ref": null, "position": [1.0, 2.0],
                 "direction_deg": 0.0, "fov_deg": 90.0, "doors": ["d1"]},
                {"id": "c2", "floor": "f1", "name": "Gate", "main_url": "", "sub_url": "",
                 "credential_ref": null, "recorder": "rec-1", "position": [1.0, 2.0],
                 "direction_deg": 0.0, "fov_deg": 90.0, "doors": []}
            ],
            "doors": []
        }))
        .expect("a site detail");
        let recorders = [contract::Recorder {
            id: "rec-1".into(),
            name: "Main".into(),
            rtsp_url: "rtsp://10.0.0.9:8556".into(),
            public_key: "00".repeat(32),
            playback_url: None,
        }];
        let tree = SiteTree::from_hub(&detail, &recorders);
        assert_eq!(tree.floors.len(), 2);
        assert_eq!(tree.floors[0].cameras[0].id, "c2");
        assert_eq!(tree.floors[1].cameras[0].doors, ["d1"]);
        let cameras = index(&[tree]);
        assert_eq!(cameras["c1"].sub_url, "rtsp://h/c1s");
        assert_eq!(cameras["c1"].recorder_url, None, "opened directly");
        assert_eq!(cameras["c2"].site, "hq");
        assert_eq!(
            cameras["c2"].recorder_url.as_deref(),
            Some("rtsp://10.0.0.9:8556"),
            "watched through its recorder"
        );
    }

    #[test]
    fn a_profile_written_before_reads_back() {
        // What a saved profile holds: fields the hub may rename or drop stay readable here.
        let saved = r#"{"id":"hq","name":"HQ","floors":[{"id":"f1","name":"G","cameras":[
            {"id":"c1","floor":"f1","name":"Door","main_url":"rtsp://h/1","sub_url":"rtsp://h/2"}]}]}"#;
        let tree: SiteTree = serde_json::from_str(saved).expect("reads");
        assert_eq!(tree.floors[0].cameras[0].credential_ref, None);
    }
}
