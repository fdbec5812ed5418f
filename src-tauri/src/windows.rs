//! The windows: the console (a webview) and the walls (native windows without a webview,
//! drawn by `wall::RenderThread`). Windows are made on the main thread; a wall window's
//! raw handles are read once, here, and drawing happens on the wall's own thread.

use anyhow::{Context, Result};
use app::Core;
use app::profile::WindowPlace;
use std::sync::Arc;
use tauri::{AppHandle, Manager, PhysicalPosition, PhysicalSize, WebviewUrl, WindowEvent};

pub const CONSOLE: &str = "console";

/// Opens the console, or brings it forward when it is open.
pub fn open_console(handle: &AppHandle, core: &Arc<Core>) -> Result<()> {
    if let Some(window) = handle.get_webview_window(CONSOLE) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return Ok(());
    }
    let mut builder =
        tauri::WebviewWindowBuilder::new(handle, CONSOLE, WebviewUrl::App("index.html".into()))
            .title("Watchfloor")
            .inner_size(1280.0, 800.0)
            .min_inner_size(720.0, 480.0);
    let place = core.window_place(CONSOLE);
    if place.is_some() {
        builder = builder.visible(false);
    }
    let console = builder.build().context("cannot open the console")?;
    if let Some(place) = place
        && let Some(window) = handle.get_window(CONSOLE)
    {
        restore_place(&window, place);
    }
    let _ = console.show();
    Ok(())
}

fn restore_place(window: &tauri::Window, place: WindowPlace) {
    // A place on a monitor that is gone is not restored (the window would be off screen).
    let on_screen = window
        .available_monitors()
        .unwrap_or_default()
        .iter()
        .any(|m| {
            let (p, s) = (m.position(), m.size());
            place.x >= p.x
                && place.y >= p.y
                && place.x < p.x + s.width as i32
                && place.y < p.y + s.height as i32
        });
    if !on_screen {
        return;
    }
    let _ = window.set_position(PhysicalPosition::new(place.x, place.y));
    let _ = window.set_size(PhysicalSize::new(
        place.width.max(320),
        place.height.max(200),
    ));
    if place.fullscreen {
        let _ = window.set_fullscreen(true);
    }
}

/// A wall's first place: on a monitor of its own when there are several, else beside the
/// console when the screen is wide enough for both.
fn first_place(window: &tauri::Window) {
    let monitors = window.available_monitors().unwrap_or_default();
    let spot = match monitors.as_slice() {
        [_, second, ..] => Some(*second.position()),
        [only] if only.size().width >= 2 * 1280 => Some(PhysicalPosition::new(
            only.position().x + 1280,
            only.position().y,
        )),
        _ => None,
    };
    if let Some(spot) = spot {
        let _ = window.set_position(spot);
    }
}

/// Opens wall `id` in a native window and starts drawing it.
pub fn open_wall(handle: &AppHandle, core: &Arc<Core>, id: &str) -> Result<()> {
    if let Some(window) = handle.get_window(id) {
        let _ = window.set_focus();
        return Ok(());
    }
    let window = tauri::window::WindowBuilder::new(handle, id)
        .title(format!("Watchfloor {}", id.replace('-', " ")))
        .inner_size(1280.0, 720.0)
        .build()
        .context("cannot open a wall window")?;
    match core.window_place(id) {
        Some(place) => restore_place(&window, place),
        None => first_place(&window),
    }
    let size = window.inner_size().context("the wall window has no size")?;
    // Tauri does not say the monitor's refresh rate; 60 Hz caps the redraw rate.
    let refresh_hz = 60.0;
    // Handles are read once, here on the main thread.
    let (gpu, target) = wall::WindowTarget::new(window.clone(), size.width, size.height)
        .context("the wall cannot draw in its window")?;
    tracing::info!(wall = %id, adapter = %gpu.adapter.name, backend = ?gpu.adapter.backend, "wall window");
    core.attach_wall(id, move |live| {
        wall::RenderThread::spawn(gpu, target, live, refresh_hz).map_err(|e| e.to_string())
    })?;
    Ok(())
}

/// Stops a wall's drawing (its window is about to go); its state stays.
pub fn stop_wall(core: &Arc<Core>, id: &str) {
    if let Some(renderer) = core.detach_wall(id)
        && let Err(error) = renderer.stop()
    {
        tracing::warn!(wall = %id, %error, "the wall stopped with an error");
    }
}

/// Stops every wall's drawing (at exit), before the windows go.
pub fn stop_walls(core: &Arc<Core>) {
    for id in core.wall_ids() {
        stop_wall(core, &id);
    }
}

/// Follows window moves and sizes (remembered; walls redraw at the new size) and closes.
pub fn window_event(handle: &AppHandle, label: &str, event: &WindowEvent) {
    let Some(core) = handle.try_state::<Arc<Core>>() else {
        return;
    };
    let Some(window) = handle.get_window(label) else {
        return;
    };
    match event {
        WindowEvent::Moved(_) | WindowEvent::Resized(_) => {
            if let (Ok(position), Ok(size)) = (window.outer_position(), window.inner_size()) {
                core.remember_window(
                    label,
                    WindowPlace {
                        x: position.x,
                        y: position.y,
                        width: size.width,
                        height: size.height,
                        fullscreen: window.is_fullscreen().unwrap_or(false),
                    },
                );
            }
            if let WindowEvent::Resized(size) = event
                && label != CONSOLE
                && let Err(error) = core.resize_wall(label, size.width, size.height)
            {
                tracing::warn!(wall = %label, %error, "resize not applied");
            }
        }
        // Drawing stops while the window still exists, never into a destroyed surface.
        WindowEvent::CloseRequested { .. } | WindowEvent::Destroyed if label != CONSOLE => {
            stop_wall(&core, label);
        }
        WindowEvent::Destroyed => core.flush(),
        _ => {}
    }
}
