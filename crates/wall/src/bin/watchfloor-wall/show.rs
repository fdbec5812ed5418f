//! `watchfloor-wall show`: the wall in a native window. The window and its events live on the
//! main thread; the wall draws on a thread of its own, woken by new frames (or once a second
//! for clocks and badges), never faster than the monitor refreshes, and only the tiles that
//! changed.

use anyhow::{Context, Result};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wall::{LiveWall, RedrawSignal, WallRenderer, WindowTarget};
use winit::application::ApplicationHandler;
use winit::event::{ElementState, KeyEvent, WindowEvent};
use winit::event_loop::{ActiveEventLoop, EventLoop};
use winit::keyboard::{Key, NamedKey};
use winit::window::{Fullscreen, Window, WindowId};

/// What the window tells the render thread. Bounded: a flood of key presses drops the oldest.
#[derive(Debug, Clone, Copy)]
enum Control {
    Resize(u32, u32),
    Select(usize),
    Move(i32, i32),
    ToggleMaximize,
    ToggleHealth,
}

#[derive(Debug, Default)]
struct Shared {
    controls: VecDeque<Control>,
    stop: bool,
}

const MAX_CONTROLS: usize = 64;

struct App {
    wall: Option<LiveWall>,
    signal: Arc<RedrawSignal>,
    shared: Arc<Mutex<Shared>>,
    window: Option<Arc<Window>>,
    renderer: Option<std::thread::JoinHandle<Result<()>>>,
    deadline: Option<Instant>,
    error: Option<anyhow::Error>,
}

pub fn run(wall: LiveWall, seconds: Option<Duration>) -> Result<()> {
    let event_loop = EventLoop::new().context("cannot open a window (is there a display?)")?;
    let mut app = App {
        signal: wall.signal(),
        wall: Some(wall),
        shared: Arc::default(),
        window: None,
        renderer: None,
        deadline: seconds.map(|s| Instant::now() + s),
        error: None,
    };
    event_loop.run_app(&mut app)?;
    app.stop();
    match app.error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

impl App {
    fn send(&self, control: Control) {
        let mut shared = self.shared.lock();
        if shared.controls.len() == MAX_CONTROLS {
            shared.controls.pop_front();
        }
        shared.controls.push_back(control);
        drop(shared);
        self.signal.notify();
    }

    fn stop(&mut self) {
        self.shared.lock().stop = true;
        self.signal.notify();
        if let Some(thread) = self.renderer.take() {
            match thread.join() {
                Ok(Err(error)) => self.error = Some(error),
                Err(_) => self.error = Some(anyhow::anyhow!("the render thread panicked")),
                Ok(Ok(())) => {}
            }
        }
    }

    fn start(&mut self, event_loop: &ActiveEventLoop) -> Result<()> {
        let attributes = Window::default_attributes()
            .with_title("Watchfloor wall")
            .with_inner_size(winit::dpi::LogicalSize::new(1280.0, 720.0));
        let window = Arc::new(event_loop.create_window(attributes)?);
        let size = window.inner_size();
        // Handles are read once, here on the main thread; drawing happens elsewhere.
        let (gpu, target) = WindowTarget::new(window.clone(), size.width, size.height)?;
        tracing::info!(adapter = %gpu.adapter.name, backend = ?gpu.adapter.backend, "wall window");
        let wall = self.wall.take().context("the wall is already shown")?;
        // Never draw faster than the monitor shows (60 Hz when it does not say).
        let refresh_hz = window
            .current_monitor()
            .and_then(|m| m.refresh_rate_millihertz())
            .map(|mhz| f64::from(mhz) / 1000.0)
            .filter(|hz| (10.0..=500.0).contains(hz))
            .unwrap_or(60.0);
        let (signal, shared) = (self.signal.clone(), self.shared.clone());
        self.renderer = Some(
            std::thread::Builder::new()
                .name("wall-render".into())
                .spawn(move || render_loop(gpu, target, wall, refresh_hz, &signal, &shared))?,
        );
        self.window = Some(window);
        Ok(())
    }
}

impl ApplicationHandler for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.window.is_none()
            && let Err(error) = self.start(event_loop)
        {
            self.error = Some(error);
            event_loop.exit();
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested => event_loop.exit(),
            WindowEvent::Resized(size) => self.send(Control::Resize(size.width, size.height)),
            WindowEvent::RedrawRequested => self.signal.notify(),
            WindowEvent::KeyboardInput {
                event:
                    KeyEvent {
                        logical_key,
                        state: ElementState::Pressed,
                        ..
                    },
                ..
            } => match logical_key.as_ref() {
                Key::Named(NamedKey::Escape) | Key::Character("q") => event_loop.exit(),
                Key::Named(NamedKey::Enter) => self.send(Control::ToggleMaximize),
                Key::Named(NamedKey::ArrowLeft) => self.send(Control::Move(-1, 0)),
                Key::Named(NamedKey::ArrowRight) => self.send(Control::Move(1, 0)),
                Key::Named(NamedKey::ArrowUp) => self.send(Control::Move(0, -1)),
                Key::Named(NamedKey::ArrowDown) => self.send(Control::Move(0, 1)),
                Key::Character("h") => self.send(Control::ToggleHealth),
                Key::Character("f") => {
                    if let Some(window) = &self.window {
                        let full = window
                            .fullscreen()
                            .is_none()
                            .then_some(Fullscreen::Borderless(None));
                        window.set_fullscreen(full);
                    }
                }
                Key::Character(c) => {
                    if let Some(n) = c.parse::<usize>().ok().filter(|n| *n >= 1) {
                        self.send(Control::Select(n - 1));
                    }
                }
                _ => {}
            },
            _ => {}
        }
        if self.renderer.as_ref().is_some_and(|t| t.is_finished()) {
            event_loop.exit();
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => event_loop.exit(),
            Some(deadline) => {
                event_loop.set_control_flow(winit::event_loop::ControlFlow::WaitUntil(deadline))
            }
            None => {}
        }
    }
}

fn render_loop(
    gpu: wall::Gpu,
    mut target: WindowTarget,
    mut wall: LiveWall,
    refresh_hz: f64,
    signal: &RedrawSignal,
    shared: &Mutex<Shared>,
) -> Result<()> {
    let mut renderer = WallRenderer::new(&gpu, target.format())?;
    let frame_interval = Duration::from_secs_f64(1.0 / refresh_hz);
    let mut last_draw = Instant::now() - frame_interval;
    loop {
        // New frames wake us; a quiet wall still redraws for clocks, badges and alarm flashes.
        signal.wait(wall.idle_wait());
        let controls: Vec<Control> = {
            let mut shared = shared.lock();
            if shared.stop {
                return Ok(());
            }
            shared.controls.drain(..).collect()
        };
        for control in controls {
            apply(&mut wall, &mut target, &gpu, control);
        }
        let since = last_draw.elapsed();
        if since < frame_interval {
            std::thread::sleep(frame_interval - since);
        }
        last_draw = Instant::now();
        let (width, height) = target.size();
        let drawn = wall.render(&mut renderer, target.canvas(), width, height)?;
        if drawn.tiles > 0 && !target.present(&gpu)? {
            // Skipped (hidden or rebuilt surface): draw everything next time.
            wall.invalidate();
        }
    }
}

fn apply(wall: &mut LiveWall, target: &mut WindowTarget, gpu: &wall::Gpu, control: Control) {
    let count = wall.layout.tiles.len();
    match control {
        // A new size moves every tile, which the wall notices and draws in full.
        Control::Resize(width, height) => target.resize(gpu, width, height),
        Control::Select(index) if index < count => wall.selected = Some(index),
        Control::Select(_) => {}
        Control::Move(dx, dy) => {
            // Move to the nearest tile centre in that direction; distance across the direction
            // counts four times, so movement stays in its row or column.
            let current = wall.selected.unwrap_or(0);
            let centre = |i: usize| {
                let t = wall.layout.tiles[i];
                (t.x + t.w / 2.0, t.y + t.h / 2.0)
            };
            let (cx, cy) = centre(current);
            let next = (0..count)
                .filter(|&i| i != current)
                .filter(|&i| {
                    let (x, y) = centre(i);
                    (dx != 0 && (x - cx) * dx as f32 > 0.01)
                        || (dy != 0 && (y - cy) * dy as f32 > 0.01)
                })
                .min_by(|&a, &b| {
                    let d = |i: usize| {
                        let (x, y) = centre(i);
                        let (along, across) = if dx != 0 {
                            (x - cx, y - cy)
                        } else {
                            (y - cy, x - cx)
                        };
                        along.powi(2) + 4.0 * across.powi(2)
                    };
                    d(a).total_cmp(&d(b))
                });
            wall.selected = Some(next.unwrap_or(current));
        }
        Control::ToggleMaximize => {
            if let Some(selected) = wall.selected.or(Some(0)) {
                wall.layout.toggle_maximized(selected);
                wall.selected = Some(selected);
            }
        }
        Control::ToggleHealth => {
            for tile in wall.tiles.iter_mut().flatten() {
                tile.show_health = !tile.show_health;
            }
        }
    }
}
