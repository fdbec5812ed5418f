//! The window target: a surface on a native window (anything with raw window and display
//! handles: a winit window here, a Tauri window in the app). The wall draws into a canvas that
//! keeps its contents, so only changed tiles are redrawn; each present copies the canvas to the
//! surface (a copy costs far less than re-sampling every tile, on lavapipe above all).

use crate::WallError;
use crate::renderer::{Gpu, render_texture};
use crate::target::{Image, read_texture, readback_buffer};

/// A window's surface and the canvas the wall draws into.
#[derive(Debug)]
pub struct WindowTarget {
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
    canvas: wgpu::Texture,
    canvas_view: wgpu::TextureView,
}

impl WindowTarget {
    /// Makes the device for `window` and the target on it.
    pub fn new(
        window: impl wgpu::DisplayAndWindowHandle + 'static,
        width: u32,
        height: u32,
    ) -> Result<(Gpu, Self), WallError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let surface = instance
            .create_surface(window)
            .map_err(|e| WallError::Surface(e.to_string()))?;
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: Some(&surface),
            apply_limit_buckets: false,
        }))
        .map_err(|e| WallError::NoAdapter(e.to_string()))?;
        let gpu = Gpu::with_adapter(instance, &adapter)?;
        let caps = surface.get_capabilities(&adapter);
        if !caps.usages.contains(wgpu::TextureUsages::COPY_DST) {
            return Err(WallError::Surface(
                "the window's surface cannot be copied into".into(),
            ));
        }
        // A plain 8-bit format: the wall writes display values as they are.
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| {
                matches!(
                    f,
                    wgpu::TextureFormat::Bgra8Unorm | wgpu::TextureFormat::Rgba8Unorm
                )
            })
            .or_else(|| caps.formats.first().copied())
            .ok_or_else(|| WallError::Surface("the surface offers no format".into()))?;
        let config = wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_DST,
            format,
            width: width.max(1),
            height: height.max(1),
            present_mode: wgpu::PresentMode::Fifo,
            desired_maximum_frame_latency: 1,
            alpha_mode: caps
                .alpha_modes
                .first()
                .copied()
                .unwrap_or(wgpu::CompositeAlphaMode::Auto),
            view_formats: vec![],
            color_space: wgpu::SurfaceColorSpace::Auto,
        };
        surface.configure(&gpu.device, &config);
        let (canvas, canvas_view) = canvas(
            &gpu,
            format.remove_srgb_suffix(),
            config.width,
            config.height,
        );
        Ok((
            gpu,
            Self {
                surface,
                config,
                canvas,
                canvas_view,
            },
        ))
    }

    /// The format to build the renderer for.
    pub fn format(&self) -> wgpu::TextureFormat {
        self.config.format.remove_srgb_suffix()
    }

    pub fn size(&self) -> (u32, u32) {
        (self.config.width, self.config.height)
    }

    /// The canvas to draw into; it keeps its contents between frames.
    pub fn canvas(&self) -> &wgpu::TextureView {
        &self.canvas_view
    }

    /// Follows a new window size (from the window's `Resized` event). Everything must be
    /// drawn again afterwards.
    pub fn resize(&mut self, gpu: &Gpu, width: u32, height: u32) {
        if (width, height) == self.size() || width == 0 || height == 0 {
            return;
        }
        self.config.width = width;
        self.config.height = height;
        self.surface.configure(&gpu.device, &self.config);
        (self.canvas, self.canvas_view) = canvas(gpu, self.format(), width, height);
    }

    /// Reads the canvas back (what the window shows once presented), as RGBA.
    pub fn read_canvas(&self, gpu: &Gpu) -> Result<Image, WallError> {
        let (readback, padded_row) =
            readback_buffer(gpu, self.canvas.width(), self.canvas.height());
        let bgra = matches!(self.format(), wgpu::TextureFormat::Bgra8Unorm);
        read_texture(gpu, &self.canvas, &readback, padded_row, bgra)
    }

    /// Shows the canvas in the window. Returns false when the frame was skipped (window hidden
    /// or surface being rebuilt); the next present tries again.
    pub fn present(&mut self, gpu: &Gpu) -> Result<bool, WallError> {
        let frame = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(frame)
            | wgpu::CurrentSurfaceTexture::Suboptimal(frame) => frame,
            wgpu::CurrentSurfaceTexture::Timeout | wgpu::CurrentSurfaceTexture::Occluded => {
                return Ok(false);
            }
            wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
                self.surface.configure(&gpu.device, &self.config);
                return Ok(false);
            }
            other => return Err(WallError::Surface(format!("{other:?}"))),
        };
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        encoder.copy_texture_to_texture(
            self.canvas.as_image_copy(),
            frame.texture.as_image_copy(),
            wgpu::Extent3d {
                width: self.config.width,
                height: self.config.height,
                depth_or_array_layers: 1,
            },
        );
        gpu.queue.submit([encoder.finish()]);
        gpu.queue.present(frame);
        Ok(true)
    }
}

fn canvas(
    gpu: &Gpu,
    format: wgpu::TextureFormat,
    width: u32,
    height: u32,
) -> (wgpu::Texture, wgpu::TextureView) {
    render_texture(&gpu.device, "wall canvas", width, height, format)
}
