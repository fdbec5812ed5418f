//! A wall in a window, drawn on a thread of its own: woken by new frames (or once a second for
//! clocks and badges), never faster than the monitor refreshes, drawing only the tiles that
//! changed. Whoever owns the window (winit in `watchfloor-wall show`, Tauri in the app) sends
//! [`WallCommand`]s; the thread owns the [`LiveWall`], the renderer and the surface.

use crate::live::{LiveTile, LiveWall, RedrawSignal, TileReport};
use crate::renderer::{Gpu, WallRenderer};
use crate::target::Image;
use crate::window::WindowTarget;
use crate::{WallError, WallLayout};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

/// What the window's owner asks of the wall.
#[derive(Debug)]
pub enum WallCommand {
    /// The window's new inner size in pixels (from its `Resized` event).
    Resize(u32, u32),
    Select(usize),
    /// Move the selection to the nearest tile in a direction (arrow keys).
    Move(i32, i32),
    /// Maximise the selected tile, or restore it.
    ToggleMaximize,
    /// Maximise one tile, or restore all (`None`).
    Maximize(Option<usize>),
    ToggleHealth,
    /// A new layout; tiles beyond its count are closed.
    Layout(WallLayout),
    /// A camera onto a tile, or the tile emptied.
    Tile(usize, Option<Box<LiveTile>>),
    /// The same tile's camera from another stream (live to replay and back): the old picture
    /// stays until the new stream has a frame.
    Switch(usize, Box<LiveTile>),
    /// Flash a tile's border (an alarm on its camera).
    Alarm(usize, bool),
    /// Read back what the window shows.
    Snapshot(SyncSender<Result<Image, WallError>>),
    /// The health of each tile's stream now, and what replaying tiles show.
    Health(SyncSender<Vec<TileReport>>),
}

/// How many commands may wait before senders are told the wall is busy.
const QUEUE: usize = 256;

/// Why a command did not reach the wall.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("the wall is busy (too many changes queued); try again")]
    Busy,
    #[error("the wall has stopped")]
    Stopped,
}

/// A running wall. Dropping it stops the thread.
#[derive(Debug)]
pub struct RenderThread {
    commands: SyncSender<WallCommand>,
    signal: Arc<RedrawSignal>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<Result<(), WallError>>>,
}

impl RenderThread {
    /// Starts drawing `wall` into `target`, at most `refresh_hz` times a second.
    pub fn spawn(
        gpu: Gpu,
        target: WindowTarget,
        wall: LiveWall,
        refresh_hz: f64,
    ) -> std::io::Result<Self> {
        let (commands, receiver) = sync_channel(QUEUE);
        let signal = wall.signal();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let loop_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("wall-render".into())
            .spawn(move || render_loop(gpu, target, wall, refresh_hz, &receiver, &loop_stop))?;
        Ok(Self {
            commands,
            signal,
            stop,
            thread: Some(thread),
        })
    }

    /// Queues a command and wakes the thread; never blocks.
    pub fn send(&self, command: WallCommand) -> Result<(), SendError> {
        match self.commands.try_send(command) {
            Ok(()) => {
                self.signal.notify();
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(SendError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(SendError::Stopped),
        }
    }

    /// What the window shows now (after the commands sent before this one), as RGBA.
    pub fn snapshot(&self, timeout: Duration) -> Result<Image, WallError> {
        let answer = self.request_snapshot()?;
        answer
            .recv_timeout(timeout)
            .map_err(|_| WallError::Readback(format!("no picture within {timeout:?}")))?
    }

    /// Asks for a snapshot; the answer arrives on the returned channel (wait without holding
    /// anything the caller's other threads need).
    pub fn request_snapshot(&self) -> Result<Receiver<Result<Image, WallError>>, WallError> {
        let (reply, answer) = sync_channel(1);
        self.send(WallCommand::Snapshot(reply))
            .map_err(|e| WallError::Readback(e.to_string()))?;
        Ok(answer)
    }

    /// Asks for each tile's stream health; the answer arrives on the returned channel.
    pub fn request_health(&self) -> Result<Receiver<Vec<TileReport>>, SendError> {
        let (reply, answer) = sync_channel(1);
        self.send(WallCommand::Health(reply))?;
        Ok(answer)
    }

    /// Whether the thread ended (an error, or the surface went away).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Stops the thread and returns how it ended.
    pub fn stop(mut self) -> Result<(), WallError> {
        self.halt()
    }

    fn halt(&mut self) -> Result<(), WallError> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.signal.notify();
        match self.thread.take().map(|t| t.join()) {
            Some(Err(_)) => Err(WallError::Surface("the render thread panicked".into())),
            Some(Ok(outcome)) => outcome,
            None => Ok(()),
        }
    }
}

impl Drop for RenderThread {
    fn drop(&mut self) {
        if let Err(error) = self.halt() {
            tracing::warn!(%error, "the wall stopped with an error");
        }
    }
}

fn render_loop(
    gpu: Gpu,
    mut target: WindowTarget,
    mut wall: LiveWall,
    refresh_hz: f64,
    commands: &Receiver<WallCommand>,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<(), WallError> {
    let mut renderer = WallRenderer::new(&gpu, target.format())?;
    let signal = wall.signal();
    let frame_interval = Duration::from_secs_f64(1.0 / refresh_hz.clamp(10.0, 500.0));
    let mut last_draw = Instant::now() - frame_interval;
    loop {
        // New frames wake us; a quiet wall still redraws for clocks, badges and alarm flashes.
        signal.wait(wall.idle_wait());
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        let mut snapshots = Vec::new();
        while let Ok(command) = commands.try_recv() {
            match command {
                WallCommand::Snapshot(reply) => snapshots.push(reply),
                other => apply(&mut wall, &mut target, &gpu, other),
            }
        }
        let since = last_draw.elapsed();
        if since < frame_interval && snapshots.is_empty() {
            std::thread::sleep(frame_interval - since);
        }
        last_draw = Instant::now();
        let (width, height) = target.size();
        let drawn = wall.render(&mut renderer, target.canvas(), width, height)?;
        if drawn.tiles > 0 && !target.present(&gpu)? {
            // Skipped (hidden or rebuilt surface): draw everything next time.
            wall.invalidate();
        }
        for reply in snapshots {
            let _ = reply.send(target.read_canvas(&gpu));
        }
    }
}

fn apply(wall: &mut LiveWall, target: &mut WindowTarget, gpu: &Gpu, command: WallCommand) {
    let count = wall.layout.tiles.len();
    match command {
        // A new size moves every tile, which the wall notices and draws in full.
        WallCommand::Resize(width, height) => target.resize(gpu, width, height),
        WallCommand::Select(index) if index < count => wall.selected = Some(index),
        WallCommand::Select(_) => {}
        WallCommand::Move(dx, dy) => {
            let current = wall.selected.unwrap_or(0);
            wall.selected = Some(wall.layout.neighbour(current, dx, dy));
        }
        WallCommand::ToggleMaximize => {
            let selected = wall.selected.unwrap_or(0);
            wall.layout.toggle_maximized(selected);
            wall.selected = Some(selected);
        }
        WallCommand::Maximize(index) => {
            wall.layout.maximized = index.filter(|i| *i < count);
        }
        WallCommand::ToggleHealth => wall.toggle_health(),
        WallCommand::Layout(layout) => wall.set_layout(layout),
        WallCommand::Tile(index, Some(tile)) => wall.set_tile(index, *tile),
        WallCommand::Switch(index, tile) => wall.switch_tile(index, *tile),
        WallCommand::Tile(index, None) => {
            wall.remove_tile(index);
        }
        WallCommand::Alarm(index, on) => wall.set_alarm(index, on),
        WallCommand::Health(reply) => {
            let health = wall
                .tiles
                .iter()
                .enumerate()
                .filter_map(|(tile, t)| {
                    let t = t.as_ref()?;
                    Some(TileReport {
                        tile,
                        health: t.camera.current()?.health(),
                        replay: t.replay,
                    })
                })
                .collect();
            let _ = reply.send(health);
        }
        WallCommand::Snapshot(_) => {}
    }
}
