//! Wall layouts as operators save and share them on the hub.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// A camera sequence on one tile: each camera in turn for `dwell_s` seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct Tour {
    pub cameras: Vec<String>,
    pub dwell_s: u32,
}

/// A wall layout as an operator saves it: where the tiles are, what each shows, which tiles
/// run tours. `shared_site` makes it visible to that site's operators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct LayoutBody {
    pub name: String,
    #[serde(default)]
    #[ts(optional)]
    pub shared_site: Option<String>,
    /// The tiles: `{"name":..,"tiles":[{"x":..,"y":..,"w":..,"h":..}],"maximized":..}`, as
    /// the wall's layout files say.
    #[schema(value_type = Object)]
    #[ts(type = "unknown")]
    pub wall: serde_json::Value,
    /// One entry per tile: the camera it shows, if any.
    pub cameras: Vec<Option<String>>,
    /// One entry per tile: its tour, if any.
    #[serde(default)]
    pub tours: Vec<Option<Tour>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct SavedLayout {
    pub id: String,
    /// The owner's user name.
    pub owner: String,
    pub owner_id: String,
    pub updated_at: String,
    #[serde(flatten)]
    pub body: LayoutBody,
}
