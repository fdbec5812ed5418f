//! The console's commands: each maps onto one `app::Core` method (or, for windows and
//! monitors, onto the shell's own window handling). Errors reach the console as
//! `{code, message}`; secrets never travel back.

use crate::windows;
use app::contract::{Caller, SavedLayout};
use app::core::{Snapshot, WriteOutcome};
use app::error::ErrorCode;
use app::outbox::OutboxView;
use app::walls::{Monitor, TileHealth, TileTour, WallView};
use app::{AppError, Core, SignIn, SiteTree, Startup};
use std::sync::Arc;
use tauri::{AppHandle, Manager, PhysicalPosition, State};

type Result<T> = std::result::Result<T, AppError>;
type CoreState<'a> = State<'a, Arc<Core>>;

pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        startup,
        sign_in,
        sign_out,
        cameras,
        refresh_cameras,
        walls,
        wall_preset,
        wall_assign,
        wall_fill,
        wall_select,
        wall_maximize,
        wall_tour,
        wall_replay,
        wall_live,
        wall_replay_all,
        wall_live_all,
        wall_playback_seek,
        wall_playback_control,
        alarm_replay,
        camera_replay,
        instant_replay_set,
        wall_snapshot,
        stream_health,
        layouts,
        layout_save,
        layout_open,
        layout_delete,
        monitors,
        wall_add,
        wall_close,
        wall_place,
        wall_alarm_tiles,
        hub_get,
        hub_write,
        floor_plan,
        outbox,
        outbox_discard,
        incident_snapshot,
        export_download,
        start_demo,
    ]
}

#[tauri::command]
fn startup(core: CoreState<'_>) -> Startup {
    core.startup()
}

#[tauri::command]
async fn sign_in(core: CoreState<'_>, request: SignIn) -> Result<Caller> {
    core.sign_in(request).await
}

#[tauri::command]
async fn start_demo(core: CoreState<'_>) -> Result<Caller> {
    core.start_demo().await
}

#[tauri::command]
async fn sign_out(core: CoreState<'_>, forget_password: bool) -> Result<()> {
    core.sign_out(forget_password).await
}

#[tauri::command]
fn cameras(core: CoreState<'_>) -> Vec<SiteTree> {
    core.cameras()
}

#[tauri::command]
async fn refresh_cameras(core: CoreState<'_>) -> Result<Vec<SiteTree>> {
    core.refresh_cameras().await
}

#[tauri::command]
fn walls(core: CoreState<'_>) -> Vec<WallView> {
    core.walls()
}

#[tauri::command]
fn wall_preset(core: CoreState<'_>, wall: String, preset: String) -> Result<()> {
    core.set_preset(&wall, &preset)
}

#[tauri::command]
fn wall_assign(
    core: CoreState<'_>,
    wall: String,
    tile: usize,
    camera: Option<String>,
) -> Result<()> {
    core.assign(&wall, tile, camera.as_deref())
}

#[tauri::command]
fn wall_fill(core: CoreState<'_>, wall: String, cameras: Vec<String>) -> Result<()> {
    core.fill_wall(&wall, &cameras)
}

#[tauri::command]
fn wall_select(core: CoreState<'_>, wall: String, tile: usize) -> Result<()> {
    core.select(&wall, tile)
}

#[tauri::command]
fn wall_maximize(core: CoreState<'_>, wall: String, tile: Option<usize>) -> Result<()> {
    core.maximize(&wall, tile)
}

#[tauri::command]
fn wall_tour(core: CoreState<'_>, wall: String, tile: usize, tour: Option<TileTour>) -> Result<()> {
    core.set_tour(&wall, tile, tour)
}

/// Replays the tile's camera from `from_ms` (Unix ms), or instant replay's reach ago.
#[tauri::command]
async fn wall_replay(
    core: CoreState<'_>,
    wall: String,
    tile: usize,
    from_ms: Option<i64>,
) -> Result<()> {
    core.replay_tile(&wall, tile, from_ms).await
}

#[tauri::command]
fn wall_live(core: CoreState<'_>, wall: String, tile: usize) -> Result<()> {
    core.live_again(&wall, tile)
}

/// Plays the wall back from `from_ms` (Unix ms), every tile on one clock at 1x; answers the
/// tiles replaying.
#[tauri::command]
async fn wall_replay_all(core: CoreState<'_>, wall: String, from_ms: i64) -> Result<Vec<usize>> {
    core.replay_wall(&wall, from_ms).await
}

/// Moves the wall's playback to `at_ms` (Unix ms), keeping its speed and pause.
#[tauri::command]
async fn wall_playback_seek(core: CoreState<'_>, wall: String, at_ms: i64) -> Result<Vec<usize>> {
    core.seek_wall(&wall, at_ms).await
}

#[tauri::command]
fn wall_playback_control(
    core: CoreState<'_>,
    wall: String,
    control: app::core::PlaybackControl,
) -> Result<app::walls::PlaybackView> {
    core.control_playback(&wall, control)
}

#[tauri::command]
fn wall_live_all(core: CoreState<'_>, wall: String) -> Result<()> {
    core.wall_live_again(&wall)
}

/// Replays an alarm's cameras from ten seconds before it; answers the tiles (wall, tile).
#[tauri::command]
async fn alarm_replay(core: CoreState<'_>, alarm: String) -> Result<Vec<(String, usize)>> {
    core.replay_alarm(&alarm).await
}

/// A camera replayed from an instant (a bookmark's), on the tiles showing it or put up.
#[tauri::command]
async fn camera_replay(
    core: CoreState<'_>,
    camera: String,
    from_ms: i64,
) -> Result<Vec<(String, usize)>> {
    core.replay_camera(&camera, from_ms).await
}

#[tauri::command]
fn instant_replay_set(core: CoreState<'_>, seconds: u32) -> Result<()> {
    core.set_instant_replay_s(seconds)
}

/// Reading the wall back waits for the GPU: off the async workers.
#[tauri::command]
async fn wall_snapshot(core: CoreState<'_>, wall: String) -> Result<Snapshot> {
    let core = core.inner().clone();
    tauri::async_runtime::spawn_blocking(move || core.snapshot(&wall))
        .await
        .map_err(|e| AppError::new(ErrorCode::Wall, e.to_string()))?
}

#[tauri::command]
async fn stream_health(core: CoreState<'_>) -> Result<Vec<TileHealth>> {
    let core = core.inner().clone();
    tauri::async_runtime::spawn_blocking(move || core.stream_health())
        .await
        .map_err(|e| AppError::new(ErrorCode::Wall, e.to_string()))
}

#[tauri::command]
fn wall_alarm_tiles(core: CoreState<'_>, wall: String, tiles: Vec<usize>) -> Result<()> {
    core.set_alarm_tiles(&wall, &tiles)
}

#[tauri::command]
async fn hub_get(core: CoreState<'_>, path: String) -> Result<serde_json::Value> {
    core.hub_get(&path).await
}

#[tauri::command]
async fn hub_write(
    core: CoreState<'_>,
    method: String,
    path: String,
    body: serde_json::Value,
) -> Result<WriteOutcome> {
    core.hub_write(&method, &path, body).await
}

#[tauri::command]
async fn floor_plan(core: CoreState<'_>, site: String, floor: String) -> Result<String> {
    core.floor_plan(&site, &floor).await
}

#[tauri::command]
fn outbox(core: CoreState<'_>) -> Result<OutboxView> {
    core.outbox()
}

#[tauri::command]
fn outbox_discard(core: CoreState<'_>, id: String) -> Result<()> {
    core.outbox_discard(&id)
}

#[tauri::command]
async fn incident_snapshot(
    core: CoreState<'_>,
    incident: String,
    wall: String,
) -> Result<WriteOutcome> {
    core.incident_snapshot(&incident, &wall).await
}

/// Saves an evidence export as one ZIP in the user's downloads folder (else the home
/// folder); answers where.
#[tauri::command]
async fn export_download(handle: AppHandle, core: CoreState<'_>, id: String) -> Result<String> {
    let folder = handle
        .path()
        .download_dir()
        .or_else(|_| handle.path().home_dir())
        .map_err(|e| AppError::storage(format!("no folder to save in: {e}")))?;
    core.export_download(&id, &folder).await
}

#[tauri::command]
async fn layouts(core: CoreState<'_>) -> Result<Vec<SavedLayout>> {
    core.layouts().await
}

#[tauri::command]
async fn layout_save(
    core: CoreState<'_>,
    wall: String,
    name: String,
    shared_site: Option<String>,
    id: Option<String>,
) -> Result<SavedLayout> {
    core.save_layout(&wall, &name, shared_site.as_deref(), id.as_deref())
        .await
}

#[tauri::command]
async fn layout_open(core: CoreState<'_>, wall: String, id: String) -> Result<()> {
    core.open_layout(&wall, &id).await
}

#[tauri::command]
async fn layout_delete(core: CoreState<'_>, id: String) -> Result<()> {
    core.delete_layout(&id).await
}

#[tauri::command]
fn monitors(handle: AppHandle) -> Result<Vec<Monitor>> {
    let monitors = handle
        .available_monitors()
        .map_err(|e| AppError::new(ErrorCode::Window, e.to_string()))?;
    Ok(monitors
        .iter()
        .enumerate()
        .map(|(index, m)| Monitor {
            index,
            name: m
                .name()
                .cloned()
                .unwrap_or_else(|| format!("Monitor {}", index + 1)),
            x: m.position().x,
            y: m.position().y,
            width: m.size().width,
            height: m.size().height,
        })
        .collect())
}

/// A new wall in a window of its own.
#[tauri::command]
async fn wall_add(handle: AppHandle, core: CoreState<'_>) -> Result<String> {
    let core = core.inner().clone();
    let id = core.add_wall()?;
    let (opened, result) = std::sync::mpsc::sync_channel(1);
    let (open_id, open_core, open_handle) = (id.clone(), core.clone(), handle.clone());
    // Windows are made on the main thread.
    handle
        .run_on_main_thread(move || {
            let _ = opened.send(windows::open_wall(&open_handle, &open_core, &open_id));
        })
        .map_err(|e| AppError::new(ErrorCode::Window, e.to_string()))?;
    tauri::async_runtime::spawn_blocking(move || result.recv())
        .await
        .map_err(|e| AppError::new(ErrorCode::Window, e.to_string()))?
        .map_err(|e| AppError::new(ErrorCode::Window, e.to_string()))?
        .map_err(|e| AppError::new(ErrorCode::Window, format!("{e:#}")))?;
    Ok(id)
}

/// Closes a wall's window and forgets the wall.
#[tauri::command]
fn wall_close(handle: AppHandle, core: CoreState<'_>, wall: String) -> Result<()> {
    if !core.wall_ids().contains(&wall) {
        return Err(AppError::bad_input(format!("no wall `{wall}`")));
    }
    // Drawing stops before its window goes.
    windows::stop_wall(&core, &wall);
    if let Some(window) = handle.get_window(&wall) {
        window
            .destroy()
            .map_err(|e| AppError::new(ErrorCode::Window, e.to_string()))?;
    }
    core.remove_wall(&wall)
}

/// Puts a wall on a monitor, full screen or windowed.
#[tauri::command]
fn wall_place(handle: AppHandle, wall: String, monitor: usize, fullscreen: bool) -> Result<()> {
    let window = handle
        .get_window(&wall)
        .ok_or_else(|| AppError::bad_input(format!("wall `{wall}` has no window")))?;
    let monitors = handle
        .available_monitors()
        .map_err(|e| AppError::new(ErrorCode::Window, e.to_string()))?;
    let target = monitors
        .get(monitor)
        .ok_or_else(|| AppError::bad_input(format!("there is no monitor {}", monitor + 1)))?;
    let fail = |e: tauri::Error| AppError::new(ErrorCode::Window, e.to_string());
    window.set_fullscreen(false).map_err(fail)?;
    window
        .set_position(PhysicalPosition::new(
            target.position().x,
            target.position().y,
        ))
        .map_err(fail)?;
    window.set_fullscreen(fullscreen).map_err(fail)?;
    Ok(())
}
