//! The renderer: owns its GPU pipelines (made once, never changed) and per-tile textures;
//! what changes per frame is plain data, a [`Scene`]. Frames are uploaded through a reused
//! staging belt straight into R8/RG8 plane textures; colour conversion happens in the shader.

use crate::WallError;
use crate::colour::ColourSpace;
use crate::frame::{PlaneLayout, SampleDepth, YuvFrame};
use crate::text::{ATLAS_SIZE, GlyphAtlas};
use std::collections::HashMap;

mod overlay;
mod scene;
mod upload;

use upload::plane_texture;

use overlay::{OverlayInstance, build_overlays};
use scene::placement;
pub use scene::{Badge, Fit, FrameUpdate, Scene, TileOverlay, TileScene, Zoom};

/// The WGSL source of both pipelines (validated by naga in the tests).
pub const SHADER: &str = include_str!("../../../../shaders/wall.wgsl");

/// The format every wall target renders in: plain 8-bit RGBA, values written as computed.
pub const TARGET_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// Background between and behind tiles.
const BACKGROUND: wgpu::Color = wgpu::Color {
    r: 0.03,
    g: 0.035,
    b: 0.04,
    a: 1.0,
};

/// A device and queue, and what adapter they run on.
#[derive(Debug, Clone)]
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter: wgpu::AdapterInfo,
    pub instance: wgpu::Instance,
}

impl Gpu {
    /// Any adapter, software ones (Mesa lavapipe) included, for offscreen work.
    pub fn headless() -> Result<Self, WallError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: None,
            apply_limit_buckets: false,
        }))
        .map_err(|e| WallError::NoAdapter(e.to_string()))?;
        Self::with_adapter(instance, &adapter)
    }

    pub fn with_adapter(
        instance: wgpu::Instance,
        adapter: &wgpu::Adapter,
    ) -> Result<Self, WallError> {
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("wall"),
            required_features: wgpu::Features::empty(),
            required_limits: wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits()),
            ..Default::default()
        }))
        .map_err(|e| WallError::NoAdapter(e.to_string()))?;
        Ok(Self {
            device,
            queue,
            adapter: adapter.get_info(),
            instance,
        })
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct TileUniform {
    dst: [f32; 4],
    src: [f32; 4],
    row_r: [f32; 4],
    row_g: [f32; 4],
    row_b: [f32; 4],
    params: [f32; 4],
}

const TILE_UNIFORM_SIZE: u64 = std::mem::size_of::<TileUniform>() as u64;
const OVERLAY_INSTANCE_SIZE: u64 = std::mem::size_of::<OverlayInstance>() as u64;

#[derive(Debug)]
struct TilePlanes {
    layout: PlaneLayout,
    width: u32,
    height: u32,
    colour: ColourSpace,
    textures: Vec<wgpu::Texture>,
}

#[derive(Debug)]
struct TileGpu {
    uniform: wgpu::Buffer,
    planes: Option<TilePlanes>,
    bind_group: Option<wgpu::BindGroup>,
}

/// The video wall renderer.
#[derive(Debug)]
pub struct WallRenderer {
    device: wgpu::Device,
    queue: wgpu::Queue,
    tile_pipeline: wgpu::RenderPipeline,
    overlay_pipeline: wgpu::RenderPipeline,
    tile_layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
    /// Bound where a layout has no third plane (NV12).
    blank_plane: wgpu::TextureView,
    atlas: GlyphAtlas,
    atlas_texture: wgpu::Texture,
    overlay_group: wgpu::BindGroup,
    overlay_buffer: wgpu::Buffer,
    overlay_instances: Vec<OverlayInstance>,
    tiles: HashMap<usize, TileGpu>,
    belt: wgpu::util::StagingBelt,
    /// One row of 10-bit samples narrowed to 8 bits.
    scratch: Vec<u8>,
}

impl WallRenderer {
    /// Builds the pipelines for targets of [`TARGET_FORMAT`] (or `format`, for a surface).
    pub fn new(gpu: &Gpu, format: wgpu::TextureFormat) -> Result<Self, WallError> {
        let device = gpu.device.clone();
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("wall.wgsl"),
            source: wgpu::ShaderSource::Wgsl(SHADER.into()),
        });
        let texture_entry = |binding: u32| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Texture {
                sample_type: wgpu::TextureSampleType::Float { filterable: true },
                view_dimension: wgpu::TextureViewDimension::D2,
                multisampled: false,
            },
            count: None,
        };
        let sampler_entry = |binding: u32| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
            count: None,
        };
        let tile_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("tile"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: wgpu::BufferSize::new(TILE_UNIFORM_SIZE),
                    },
                    count: None,
                },
                texture_entry(1),
                texture_entry(2),
                texture_entry(3),
                sampler_entry(4),
            ],
        });
        let overlay_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("overlay"),
            entries: &[texture_entry(0), sampler_entry(1)],
        });
        let pipeline = |name: &str,
                        layout: &wgpu::BindGroupLayout,
                        vs: &str,
                        fs: &str,
                        buffers: &[Option<wgpu::VertexBufferLayout<'_>>],
                        blend: Option<wgpu::BlendState>| {
            let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(name),
                bind_group_layouts: &[Some(layout)],
                immediate_size: 0,
            });
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(name),
                layout: Some(&pipeline_layout),
                vertex: wgpu::VertexState {
                    module: &shader,
                    entry_point: Some(vs),
                    compilation_options: Default::default(),
                    buffers,
                },
                primitive: wgpu::PrimitiveState::default(),
                depth_stencil: None,
                multisample: wgpu::MultisampleState::default(),
                fragment: Some(wgpu::FragmentState {
                    module: &shader,
                    entry_point: Some(fs),
                    compilation_options: Default::default(),
                    targets: &[Some(wgpu::ColorTargetState {
                        format,
                        blend,
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let tile_pipeline = pipeline("tiles", &tile_layout, "vs_tile", "fs_tile", &[], None);
        let overlay_attributes = wgpu::vertex_attr_array![0 => Float32x4, 1 => Float32x4, 2 => Float32x4, 3 => Float32x4];
        let overlay_pipeline = pipeline(
            "overlays",
            &overlay_layout,
            "vs_overlay",
            "fs_overlay",
            &[Some(wgpu::VertexBufferLayout {
                array_stride: OVERLAY_INSTANCE_SIZE,
                step_mode: wgpu::VertexStepMode::Instance,
                attributes: &overlay_attributes,
            })],
            Some(wgpu::BlendState::ALPHA_BLENDING),
        );
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("linear"),
            address_mode_u: wgpu::AddressMode::ClampToEdge,
            address_mode_v: wgpu::AddressMode::ClampToEdge,
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        let blank_plane = plane_texture(&device, 1, 1, wgpu::TextureFormat::R8Unorm)
            .create_view(&Default::default());
        let atlas_texture = plane_texture(
            &device,
            ATLAS_SIZE,
            ATLAS_SIZE,
            wgpu::TextureFormat::R8Unorm,
        );
        let atlas_view = atlas_texture.create_view(&Default::default());
        let overlay_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("overlay"),
            layout: &overlay_layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::TextureView(&atlas_view),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::Sampler(&sampler),
                },
            ],
        });
        let overlay_buffer = overlay_buffer(&device, 256);
        Ok(Self {
            belt: wgpu::util::StagingBelt::new(device.clone(), 4 << 20),
            queue: gpu.queue.clone(),
            device,
            tile_pipeline,
            overlay_pipeline,
            tile_layout,
            sampler,
            blank_plane,
            atlas: GlyphAtlas::new().map_err(WallError::Font)?,
            atlas_texture,
            overlay_group,
            overlay_buffer,
            overlay_instances: Vec::new(),
            tiles: HashMap::new(),
            scratch: Vec::new(),
        })
    }

    /// Draws `scene` into `target` (`width` x `height` pixels) and submits the work.
    pub fn render(
        &mut self,
        scene: &Scene<'_>,
        target: &wgpu::TextureView,
        width: u32,
        height: u32,
    ) -> Result<(), WallError> {
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("wall"),
            });
        self.tiles
            .retain(|slot, _| scene.tiles.iter().any(|t| t.slot == *slot));
        for tile in &scene.tiles {
            match tile.frame {
                FrameUpdate::Keep => {}
                FrameUpdate::Clear => {
                    if let Some(gpu) = self.tiles.get_mut(&tile.slot) {
                        gpu.planes = None;
                        gpu.bind_group = None;
                    }
                }
                FrameUpdate::New(frame) => {
                    // One bad frame costs its tile its picture, never the whole wall.
                    if let Err(error) = self.upload(tile.slot, &frame, &mut encoder) {
                        tracing::warn!(slot = tile.slot, %error, "frame not shown");
                        if let Some(gpu) = self.tiles.get_mut(&tile.slot) {
                            gpu.planes = None;
                            gpu.bind_group = None;
                        }
                    }
                }
            }
        }
        for tile in &scene.tiles {
            let Some(gpu) = self.tiles.get(&tile.slot) else {
                continue;
            };
            let Some(planes) = gpu.planes.as_ref() else {
                continue;
            };
            let uniform = tile_uniform(tile, planes, width, height);
            self.belt
                .write_buffer(
                    &mut encoder,
                    &gpu.uniform,
                    0,
                    wgpu::BufferSize::new(TILE_UNIFORM_SIZE).expect("non-zero"),
                )
                .copy_from_slice(bytemuck::bytes_of(&uniform));
        }
        self.atlas.begin_frame();
        let tiles = &self.tiles;
        let picture = |slot: usize| {
            let planes = tiles.get(&slot)?.planes.as_ref()?;
            Some((planes.width, planes.height))
        };
        let mut instances = std::mem::take(&mut self.overlay_instances);
        let ranges = build_overlays(
            scene,
            picture,
            &mut self.atlas,
            width,
            height,
            &mut instances,
        );
        self.overlay_instances = instances;
        self.upload_glyphs();
        let instances = self.overlay_instances.len() as u64;
        if instances * OVERLAY_INSTANCE_SIZE > self.overlay_buffer.size() {
            self.overlay_buffer =
                overlay_buffer(&self.device, (instances as usize).next_power_of_two());
        }
        if let Some(size) = wgpu::BufferSize::new(instances * OVERLAY_INSTANCE_SIZE) {
            self.belt
                .write_buffer(&mut encoder, &self.overlay_buffer, 0, size)
                .copy_from_slice(bytemuck::cast_slice(&self.overlay_instances));
        }
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("wall"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: target,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: if scene.full {
                            wgpu::LoadOp::Clear(BACKGROUND)
                        } else {
                            wgpu::LoadOp::Load
                        },
                        store: wgpu::StoreOp::Store,
                    },
                })],
                ..Default::default()
            });
            if instances > 0 {
                pass.set_vertex_buffer(
                    0,
                    self.overlay_buffer
                        .slice(..instances * OVERLAY_INSTANCE_SIZE),
                );
            }
            for (tile, range) in scene.tiles.iter().zip(ranges) {
                if !scene.full && !tile.changed {
                    continue;
                }
                let r = tile.rect;
                if r.w == 0 || r.h == 0 || r.x + r.w > width || r.y + r.h > height {
                    continue;
                }
                pass.set_scissor_rect(r.x, r.y, r.w, r.h);
                // Background (the bars), picture, then the tile's own overlays.
                pass.set_pipeline(&self.overlay_pipeline);
                pass.set_bind_group(0, &self.overlay_group, &[]);
                if !range.backgrounds.is_empty() {
                    pass.draw(0..6, range.backgrounds.clone());
                }
                if let Some(group) = self
                    .tiles
                    .get(&tile.slot)
                    .and_then(|t| t.bind_group.as_ref())
                {
                    pass.set_pipeline(&self.tile_pipeline);
                    pass.set_bind_group(0, group, &[]);
                    pass.draw(0..6, 0..1);
                    pass.set_pipeline(&self.overlay_pipeline);
                    pass.set_bind_group(0, &self.overlay_group, &[]);
                }
                if !range.overlays.is_empty() {
                    pass.draw(0..6, range.overlays.clone());
                }
            }
        }
        self.belt.finish();
        self.queue.submit([encoder.finish()]);
        self.belt.recall();
        Ok(())
    }
}

fn texture_2d(
    device: &wgpu::Device,
    label: &str,
    width: u32,
    height: u32,
    format: wgpu::TextureFormat,
    usage: wgpu::TextureUsages,
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage,
        view_formats: &[],
    })
}

/// A texture the wall renders into and that is copied out of (offscreen target, canvas).
pub(crate) fn render_texture(
    device: &wgpu::Device,
    label: &str,
    width: u32,
    height: u32,
    format: wgpu::TextureFormat,
) -> (wgpu::Texture, wgpu::TextureView) {
    let usage = wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC;
    let texture = texture_2d(device, label, width, height, format, usage);
    let view = texture.create_view(&Default::default());
    (texture, view)
}

fn overlay_buffer(device: &wgpu::Device, instances: usize) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("overlay instances"),
        size: instances as u64 * OVERLAY_INSTANCE_SIZE,
        usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// The uniform for a tile: its placement in clip space, its colour matrix and its taps.
fn tile_uniform(tile: &TileScene<'_>, planes: &TilePlanes, width: u32, height: u32) -> TileUniform {
    let ([x0, y0, x1, y1], src) = placement(tile, planes.width, planes.height);
    let texels_per_pixel = planes.width as f32 * (src[2] - src[0]) / (x1 - x0).max(1.0);
    // Bilinear alone is fine to about 1.5 source texels per pixel; beyond, a grid of taps.
    let taps = texels_per_pixel.round().clamp(1.0, 4.0);
    let m = planes.colour.to_rgb_matrix();
    let (fw, fh) = (width as f32, height as f32);
    TileUniform {
        dst: [
            x0 / fw * 2.0 - 1.0,
            1.0 - y0 / fh * 2.0,
            x1 / fw * 2.0 - 1.0,
            1.0 - y1 / fh * 2.0,
        ],
        src,
        row_r: m[0],
        row_g: m[1],
        row_b: m[2],
        params: [
            taps,
            if planes.layout == PlaneLayout::Nv12 {
                1.0
            } else {
                0.0
            },
            0.0,
            0.0,
        ],
    }
}
