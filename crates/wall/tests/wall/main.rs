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
        sim::SimConfig::quiet(site::Site::with_cameras(cameras)),
        Vec::new(),
    )
    .expect("simulator starts")
}

/// Reads any PNG (screenshots may come as grey or 1-bit images) as RGBA.
fn read_png(path: &std::path::Path) -> wall::Image {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("png header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("png data");
    let channels = info.color_type.samples();
    let rgba = pixels[..info.buffer_size()]
        .chunks_exact(channels)
        .flat_map(|p| match p {
            [r, g, b, a] => [*r, *g, *b, *a],
            [r, g, b] => [*r, *g, *b, 255],
            [v, a] => [*v, *v, *v, *a],
            [v] => [*v, *v, *v, 255],
            _ => [0, 0, 0, 255],
        })
        .collect();
    wall::Image {
        width: info.width,
        height: info.height,
        rgba,
    }
}
