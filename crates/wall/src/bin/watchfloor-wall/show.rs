//! `watchfloor-wall show`: the wall in a native window. The window and its events live on the
//! main thread; the wall draws on its own [`RenderThread`], driven by commands.

use anyhow::{Context, Result};
use std::time::{Duration, Instant};
use wall::{LiveWall, RenderThread, WallCommand, WindowTarget};
use winit::application::ApplicationHandler;
use winit::event::{ElementState, KeyEvent, WindowEvent};
use winit::event_loop::{ActiveEventLoop, EventLoop};
use winit::keyboard::{Key, NamedKey};
use winit::window::{Fullscreen, Window, WindowId};

struct App {
    wall: Option<LiveWall>,
    window: Option<std::sync::Arc<Window>>,
    renderer: Option<RenderThread>,
    deadline: Option<Instant>,
    error: Option<anyhow::Error>,
}

pub fn run(wall: LiveWall, seconds: Option<Duration>) -> Result<()> {
    let event_loop = EventLoop::new().context("cannot open a window (is there a display?)")?;
    let mut app = App {
        wall: Some(wall),
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
    fn send(&mut self, command: WallCommand) {
        if let Some(renderer) = &self.renderer
            && let Err(error) = renderer.send(command)
        {
            tracing::warn!(%error, "key not applied");
        }
    }

    fn stop(&mut self) {
        if let Some(renderer) = self.renderer.take()
            && let Err(error) = renderer.stop()
        {
            self.error = Some(error.into());
        }
    }

    fn start(&mut self, event_loop: &ActiveEventLoop) -> Result<()> {
        let attributes = Window::default_attributes()
            .with_title("Watchfloor wall")
            .with_inner_size(winit::dpi::LogicalSize::new(1280.0, 720.0));
        let window = std::sync::Arc::new(event_loop.create_window(attributes)?);
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
        self.renderer = Some(RenderThread::spawn(gpu, target, wall, refresh_hz)?);
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
            WindowEvent::Resized(size) => self.send(WallCommand::Resize(size.width, size.height)),
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
                Key::Named(NamedKey::Enter) => self.send(WallCommand::ToggleMaximize),
                Key::Named(NamedKey::ArrowLeft) => self.send(WallCommand::Move(-1, 0)),
                Key::Named(NamedKey::ArrowRight) => self.send(WallCommand::Move(1, 0)),
                Key::Named(NamedKey::ArrowUp) => self.send(WallCommand::Move(0, -1)),
                Key::Named(NamedKey::ArrowDown) => self.send(WallCommand::Move(0, 1)),
                Key::Character("h") => self.send(WallCommand::ToggleHealth),
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
                        self.send(WallCommand::Select(n - 1));
                    }
                }
                _ => {}
            },
            _ => {}
        }
        if self
            .renderer
            .as_ref()
            .is_some_and(RenderThread::is_finished)
        {
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
