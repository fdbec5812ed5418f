//! `watchfloor`: the desktop app. A thin Tauri 2 shell: it makes the windows (the console's
//! webview, and native wall windows drawn by the wall crate on threads of their own), keeps
//! one instance per profile, remembers where windows were, and maps the console's commands
//! and the core's events onto `app::Core`. Nothing else lives here.

#![cfg_attr(all(not(debug_assertions), windows), windows_subsystem = "windows")]

mod commands;
mod windows;

use anyhow::{Context, Result};
use app::keychain::{DEFAULT_TIMEOUT, Keychain};
use app::profile::Profile;
use app::{AppEvent, Core, Events, SignIn};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tauri::{Emitter, Manager, RunEvent};

#[derive(Debug, Parser)]
#[command(
    name = "watchfloor",
    version,
    about = "Watchfloor: the operator console and video walls"
)]
struct Args {
    /// The profile folder (what the app remembers); default: the user's config folder.
    #[arg(long, env = "WATCHFLOOR_PROFILE")]
    profile: Option<PathBuf>,
    /// Sign in to this hub at start (https://host:port).
    #[arg(long, requires_all = ["username", "password_file"])]
    hub: Option<String>,
    /// A PEM file of certificates to trust for the hub (its own or its CA's).
    #[arg(long)]
    hub_ca: Option<PathBuf>,
    #[arg(long)]
    username: Option<String>,
    /// A file holding the password (readable by this user only); never on the command line.
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// After signing in at start, show this site's cameras on the first wall when it is empty.
    #[arg(long, requires = "hub")]
    show_site: Option<String>,
}

/// The core's events, sent to the console's webview.
struct ToConsole(tauri::AppHandle);

impl Events for ToConsole {
    fn emit(&self, event: AppEvent) {
        if let Err(error) = self.0.emit_to("console", "watchfloor", &event) {
            tracing::debug!(%error, "event not delivered (no console open)");
        }
    }
}

fn main() -> ExitCode {
    logging::init("warn,watchfloor=info,app=info");
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("watchfloor: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();
    let dir = args
        .profile
        .clone()
        .or_else(Profile::default_dir)
        .context("no profile folder: set --profile or HOME")?;
    let profile = Profile::open(dir)?;
    let lock = match app::instance::start(profile.dir())? {
        app::instance::Started::First(lock) => lock,
        app::instance::Started::Second => {
            eprintln!(
                "watchfloor: already running for this profile; its console was brought forward"
            );
            return Ok(());
        }
    };
    let sign_in = match (&args.hub, &args.username, &args.password_file) {
        (Some(hub), Some(username), Some(file)) => Some(SignIn {
            hub: hub.clone(),
            username: username.clone(),
            password: Some(
                std::fs::read_to_string(file)
                    .with_context(|| format!("cannot read {}", file.display()))?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
            ),
            remember: false,
            ca_file: args.hub_ca.clone(),
        }),
        _ => None,
    };
    let show_site = args.show_site.clone();
    let keychain = Keychain::platform(DEFAULT_TIMEOUT);
    if let Err(error) = &keychain {
        tracing::warn!(%error, "no keychain: passwords cannot be remembered");
    }
    let app = tauri::Builder::default()
        .invoke_handler(commands::handler())
        .setup(move |tauri_app| {
            let handle = tauri_app.handle().clone();
            let core = Core::new(profile, keychain, Arc::new(ToConsole(handle.clone())));
            if let Some(places) = demo_places(&handle, &core) {
                core.offer_demo(places);
            }
            tauri_app.manage(core.clone());
            windows::open_console(&handle, &core)?;
            for id in core.wall_ids() {
                if let Err(error) = windows::open_wall(&handle, &core, &id) {
                    core.report_problem(format!("{id} cannot show video: {error:#}"));
                }
            }
            background(&handle, &core, &lock)?;
            // Held until the process ends: it is what makes this the one instance.
            tauri_app.manage(lock);
            if let Some(request) = sign_in {
                let core = core.clone();
                tauri::async_runtime::spawn(async move {
                    if let Err(error) = core.sign_in(request).await {
                        tracing::error!(%error, "signing in at start failed");
                        return;
                    }
                    if let Some(site) = show_site {
                        core.show_site_if_empty(&site);
                    }
                });
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .context("cannot start the app's windows")?;
    app.run(|handle, event| match event {
        RunEvent::WindowEvent { label, event, .. } => windows::window_event(handle, &label, &event),
        RunEvent::Exit => {
            if let Some(core) = handle.try_state::<Arc<Core>>() {
                windows::stop_walls(&core);
                core.flush();
                core.stop_demo();
            }
        }
        _ => {}
    });
    Ok(())
}

/// Where the embedded demo's parts are: `watchfloor-hub` and `watchfloor-sim` beside this
/// executable, and the demo site among the app's resources (or, running from a build, in the
/// checkout it was built from). `None` when this installation has no demo.
fn demo_places(handle: &tauri::AppHandle, core: &Core) -> Option<app::demo::DemoPlaces> {
    let bin_dir = std::env::current_exe().ok()?.parent()?.to_path_buf();
    let from_resources = handle
        .path()
        .resource_dir()
        .ok()
        .map(|dir| dir.join("demo/site.json"));
    let from_checkout = bin_dir
        .ancestors()
        .map(|dir| dir.join("crates/site/demo/site.json"))
        .find(|path| path.is_file());
    let site = from_resources
        .filter(|path| path.is_file())
        .or(from_checkout)?;
    let places = app::demo::DemoPlaces {
        bin_dir,
        site,
        data: core.profile().dir().join("demo"),
        console: None,
        sim_args: Vec::new(),
    };
    let complete = ["watchfloor-hub", "watchfloor-sim"].iter().all(|name| {
        places
            .bin_dir
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
            .is_file()
    });
    complete.then_some(places)
}

/// The threads beside the windows: another start asking to show the console, tours moving
/// on, the outbox retried, and SIGINT/SIGTERM closing the app cleanly.
fn background(
    handle: &tauri::AppHandle,
    core: &Arc<Core>,
    lock: &app::instance::InstanceLock,
) -> Result<()> {
    let waiter = lock.try_clone()?;
    let show = handle.clone();
    std::thread::Builder::new()
        .name("instance".into())
        .spawn(move || {
            waiter.wait_for_others(|| {
                let handle = show.clone();
                let _ = show.run_on_main_thread(move || {
                    if let Some(core) = handle.try_state::<Arc<Core>>()
                        && let Err(error) = windows::open_console(&handle, &core)
                    {
                        tracing::error!(%error, "cannot show the console");
                    }
                });
            })
        })?;
    let ticking = Arc::downgrade(core);
    std::thread::Builder::new()
        .name("tours".into())
        .spawn(move || {
            while let Some(core) = ticking.upgrade() {
                core.tick(Instant::now());
                drop(core);
                std::thread::sleep(Duration::from_millis(500));
            }
        })?;
    // Writes that wait in the outbox go out as soon as the link is back (the core sees to
    // that); this retries the ones the hub could not take although it was reachable.
    let retrying = Arc::downgrade(core);
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(15)).await;
            let Some(core) = retrying.upgrade() else {
                break;
            };
            core.retry_outbox().await;
        }
    });
    let quit = handle.clone();
    tauri::async_runtime::spawn(async move {
        stop_signal().await;
        tracing::info!("signal: closing");
        quit.exit(0);
    });
    Ok(())
}

/// Ctrl-C, or (on Unix) SIGTERM from a service manager or the demo.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "SIGTERM not handled");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
