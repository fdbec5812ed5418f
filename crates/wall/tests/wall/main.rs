//! The wall on a real GPU adapter (Mesa lavapipe where there is no GPU): shader validation,
//! golden colours, layout placement, overlays, and the simulator's cameras end to end.

mod adaptive_wall;
mod generated;
mod golden;
mod shaders;
mod show_window;
mod sim_to_wall;
mod snapshot_binary;

/// Held by the tests that stream from a simulator, so their encoders and decoders do not fight
/// over two cores at once (a test that needs seconds alone would need minutes together).
static STREAMING: parking_lot::Mutex<()> = parking_lot::Mutex::new(());

/// A simulated site of `cameras` plain cameras on a free port, doors quiet.
fn start_sim(cameras: usize) -> sim::Sim {
    sim::Sim::start(
        sim::SimConfig {
            site: site::Site::with_cameras(cameras),
            host: "127.0.0.1".into(),
            rtsp_port: 0,
            credentials: None,
            doors: sim::DoorSettings::default(),
        },
        None,
    )
    .expect("simulator starts")
}
