//! An RTSP server (gst-rtsp-server) served on a thread with a GLib main context of its own, so
//! that it never depends on a main loop of the process, and stopped cleanly when dropped:
//! clients disconnected, its source destroyed on its own context, the loop quit from inside.
//! The simulator's cameras and the recorder's restream both run this way.

use gst::glib;
use gst_rtsp_server::prelude::*;

/// A server bound and serving; dropping it stops it.
#[derive(Debug)]
pub struct Serving {
    server: gst_rtsp_server::RTSPServer,
    main_loop: glib::MainLoop,
    thread: Option<std::thread::JoinHandle<()>>,
    source: Option<glib::SourceId>,
    port: u16,
}

/// Binds `server` (its address and service already set) and serves it on a thread named
/// `name`; the error says what could not be done.
pub fn serve(server: gst_rtsp_server::RTSPServer, name: &str) -> Result<Serving, String> {
    let context = glib::MainContext::new();
    let main_loop = glib::MainLoop::new(Some(&context), false);
    let address = format!(
        "{}:{}",
        server.address().map(|a| a.to_string()).unwrap_or_default(),
        server.service()
    );
    let source = server
        .attach(Some(&context))
        .map_err(|e| format!("cannot serve RTSP on {address}: {e}"))?;
    let port = u16::try_from(server.bound_port())
        .map_err(|_| format!("cannot serve RTSP on {address}: no bound port"))?;
    let thread = {
        let main_loop = main_loop.clone();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let context = main_loop.context();
                let _ = context.with_thread_default(|| main_loop.run());
            })
            .map_err(|e| format!("cannot start the RTSP thread: {e}"))?
    };
    Ok(Serving {
        server,
        main_loop,
        thread: Some(thread),
        source: Some(source),
        port,
    })
}

impl Serving {
    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn server(&self) -> &gst_rtsp_server::RTSPServer {
        &self.server
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.server
            .client_filter(Some(&mut |_, _| gst_rtsp_server::RTSPFilterResult::Remove));
        // The source lives on our own context, where `SourceId::remove` cannot find it.
        if let Some(source) = self
            .source
            .take()
            .and_then(|id| self.main_loop.context().find_source_by_id(&id))
        {
            source.destroy();
        }
        // Quit from inside the loop: a quit before the thread reaches `run()` would be lost.
        let main_loop = self.main_loop.clone();
        self.main_loop.context().invoke(move || main_loop.quit());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
