//! The offscreen target: a texture the wall renders into and reads back, for snapshots, tests
//! and benchmarks.

use crate::WallError;
use crate::renderer::{Gpu, TARGET_FORMAT, render_texture};

/// An RGBA image read back from the GPU, rows tightly packed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl Image {
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let at = ((y * self.width + x) * 4) as usize;
        [self.rgba[at], self.rgba[at + 1], self.rgba[at + 2]]
    }

    /// Luma (BT.601 weights) of a pixel, for reading pixel stamps back.
    pub fn luma(&self, x: u32, y: u32) -> u8 {
        let [r, g, b] = self.pixel(x, y).map(f32::from);
        (0.299 * r + 0.587 * g + 0.114 * b).round() as u8
    }

    /// The simulator's pixel stamp in the picture shown in `rect`, if it reads back.
    pub fn stamp_in(&self, rect: crate::PixelRect) -> Option<stamp::Stamp> {
        stamp::StampGeometry::new(rect.w, rect.h)?.read(|x, y| self.luma(rect.x + x, rect.y + y))
    }

    /// Writes a PNG.
    pub fn save_png(&self, path: &std::path::Path) -> Result<(), WallError> {
        let file = std::fs::File::create(path)
            .map_err(|e| WallError::Png(format!("{}: {e}", path.display())))?;
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), self.width, self.height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| WallError::Png(e.to_string()))?;
        writer
            .write_image_data(&self.rgba)
            .map_err(|e| WallError::Png(e.to_string()))?;
        writer.finish().map_err(|e| WallError::Png(e.to_string()))
    }
}

/// A render target in GPU memory with a readback buffer.
#[derive(Debug)]
pub struct OffscreenTarget {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    readback: wgpu::Buffer,
    padded_row: u32,
    pub width: u32,
    pub height: u32,
}

impl OffscreenTarget {
    pub fn new(gpu: &Gpu, width: u32, height: u32) -> Self {
        let (texture, view) =
            render_texture(&gpu.device, "offscreen wall", width, height, TARGET_FORMAT);
        let (readback, padded_row) = readback_buffer(gpu, width, height);
        Self {
            view,
            texture,
            readback,
            padded_row,
            width,
            height,
        }
    }

    pub fn view(&self) -> &wgpu::TextureView {
        &self.view
    }

    /// Copies the rendered image back to the CPU (waits for the GPU).
    pub fn read(&self, gpu: &Gpu) -> Result<Image, WallError> {
        read_texture(gpu, &self.texture, &self.readback, self.padded_row, false)
    }
}

/// A readback buffer for a `width` x `height` RGBA or BGRA texture; returns it and its padded
/// row length (rows of buffer copies are padded to 256 bytes).
pub(crate) fn readback_buffer(gpu: &Gpu, width: u32, height: u32) -> (wgpu::Buffer, u32) {
    let padded_row = wgpu::util::align_to(width * 4, wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
    let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("wall readback"),
        size: u64::from(padded_row) * u64::from(height),
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    (buffer, padded_row)
}

/// Copies `texture` into `readback` and returns it as RGBA (swapping from BGRA when `bgra`).
pub(crate) fn read_texture(
    gpu: &Gpu,
    texture: &wgpu::Texture,
    readback: &wgpu::Buffer,
    padded_row: u32,
    bgra: bool,
) -> Result<Image, WallError> {
    let (width, height) = (texture.width(), texture.height());
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    encoder.copy_texture_to_buffer(
        texture.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: readback,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded_row),
                rows_per_image: Some(height),
            },
        },
        wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
    );
    gpu.queue.submit([encoder.finish()]);
    let slice = readback.slice(..);
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    slice.map_async(wgpu::MapMode::Read, move |result| {
        let _ = sender.send(result);
    });
    gpu.device
        .poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: Some(std::time::Duration::from_secs(30)),
        })
        .map_err(|e| WallError::Readback(e.to_string()))?;
    receiver
        .recv()
        .map_err(|e| WallError::Readback(e.to_string()))?
        .map_err(|e| WallError::Readback(e.to_string()))?;
    let mut rgba = Vec::with_capacity((width * height * 4) as usize);
    {
        let mapped = slice
            .get_mapped_range()
            .map_err(|e| WallError::Readback(format!("{e:?}")))?;
        for row in mapped.chunks(padded_row as usize).take(height as usize) {
            rgba.extend_from_slice(&row[..(width * 4) as usize]);
        }
    }
    readback.unmap();
    if bgra {
        for pixel in rgba.chunks_exact_mut(4) {
            pixel.swap(0, 2);
        }
    }
    Ok(Image {
        width,
        height,
        rgba,
    })
}
