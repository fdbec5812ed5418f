//! Getting pictures and glyphs onto the GPU: per-tile plane textures made once per stream size
//! and reused, frames copied into them through the reused staging belt (10-bit samples narrowed
//! to 8 bits on the way), and new glyphs into the atlas.

use super::*;

impl WallRenderer {
    pub(super) fn upload(
        &mut self,
        slot: usize,
        frame: &YuvFrame<'_>,
        encoder: &mut wgpu::CommandEncoder,
    ) -> Result<(), WallError> {
        frame.validate()?;
        let max = self.device.limits().max_texture_dimension_2d;
        if frame.width > max || frame.height > max {
            return Err(WallError::Upload(format!(
                "a {}x{} frame is larger than this GPU's {max}x{max} textures",
                frame.width, frame.height
            )));
        }
        let device = &self.device;
        let gpu = self.tiles.entry(slot).or_insert_with(|| TileGpu {
            uniform: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("tile uniform"),
                size: TILE_UNIFORM_SIZE,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            planes: None,
            bind_group: None,
        });
        let same = gpu.planes.as_ref().is_some_and(|p| {
            p.layout == frame.layout && p.width == frame.width && p.height == frame.height
        });
        let (cw, ch) = frame.chroma_size();
        let formats: Vec<(u32, u32, wgpu::TextureFormat)> = match frame.layout {
            PlaneLayout::I420 | PlaneLayout::I422 | PlaneLayout::I444 => vec![
                (frame.width, frame.height, wgpu::TextureFormat::R8Unorm),
                (cw, ch, wgpu::TextureFormat::R8Unorm),
                (cw, ch, wgpu::TextureFormat::R8Unorm),
            ],
            PlaneLayout::Nv12 => vec![
                (frame.width, frame.height, wgpu::TextureFormat::R8Unorm),
                (cw, ch, wgpu::TextureFormat::Rg8Unorm),
            ],
        };
        if !same {
            // New size or layout: new textures, made once and reused for every frame after.
            let textures: Vec<wgpu::Texture> = formats
                .iter()
                .map(|(w, h, format)| plane_texture(device, *w, *h, *format))
                .collect();
            let views: Vec<wgpu::TextureView> = textures
                .iter()
                .map(|t| t.create_view(&Default::default()))
                .collect();
            let third = views.get(2).unwrap_or(&self.blank_plane);
            gpu.bind_group = Some(device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("tile"),
                layout: &self.tile_layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: gpu.uniform.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::TextureView(&views[0]),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: wgpu::BindingResource::TextureView(&views[1]),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: wgpu::BindingResource::TextureView(third),
                    },
                    wgpu::BindGroupEntry {
                        binding: 4,
                        resource: wgpu::BindingResource::Sampler(&self.sampler),
                    },
                ],
            }));
            gpu.planes = Some(TilePlanes {
                layout: frame.layout,
                width: frame.width,
                height: frame.height,
                colour: frame.colour,
                textures,
            });
        }
        let Some(planes) = gpu.planes.as_mut() else {
            return Ok(());
        };
        planes.colour = frame.colour;
        for (index, (w, h, format)) in formats.iter().enumerate() {
            let Some(plane) = frame.planes[index] else {
                continue;
            };
            let bytes_per_texel = if *format == wgpu::TextureFormat::Rg8Unorm {
                2
            } else {
                1
            };
            let row = (*w * bytes_per_texel) as usize;
            let depth = frame.depth;
            let padded = wgpu::util::align_to(row as u32, wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
            let size = u64::from(padded) * u64::from(*h);
            let Some(size) = wgpu::BufferSize::new(size) else {
                continue;
            };
            let slice = self
                .belt
                .allocate(size, wgpu::BufferSize::new(256).expect("non-zero"));
            {
                let mut view = slice
                    .get_mapped_range_mut()
                    .map_err(|e| WallError::Upload(format!("{e:?}")))?;
                for y in 0..*h as usize {
                    let at = y * padded as usize;
                    if depth == SampleDepth::Eight {
                        let src = &plane.data[y * plane.stride..y * plane.stride + row];
                        view.slice(at..at + row).copy_from_slice(src);
                    } else {
                        // Ten-bit samples become the 8 bits the wall shows, row by row through
                        // a scratch row that is allocated once.
                        let src = &plane.data[y * plane.stride..y * plane.stride + row * 2];
                        self.scratch.clear();
                        self.scratch
                            .extend(src.chunks_exact(2).map(|s| depth.to_8bit(s[0], s[1])));
                        view.slice(at..at + row).copy_from_slice(&self.scratch);
                    }
                }
            }
            encoder.copy_buffer_to_texture(
                wgpu::TexelCopyBufferInfo {
                    buffer: slice.buffer(),
                    layout: wgpu::TexelCopyBufferLayout {
                        offset: slice.offset(),
                        bytes_per_row: Some(padded),
                        rows_per_image: Some(*h),
                    },
                },
                planes.textures[index].as_image_copy(),
                wgpu::Extent3d {
                    width: *w,
                    height: *h,
                    depth_or_array_layers: 1,
                },
            );
        }
        Ok(())
    }

    pub(super) fn upload_glyphs(&mut self) {
        for (x, y, w, h, coverage) in self.atlas.pending.drain(..) {
            self.queue.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture: &self.atlas_texture,
                    mip_level: 0,
                    origin: wgpu::Origin3d { x, y, z: 0 },
                    aspect: wgpu::TextureAspect::All,
                },
                &coverage,
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(w),
                    rows_per_image: Some(h),
                },
                wgpu::Extent3d {
                    width: w,
                    height: h,
                    depth_or_array_layers: 1,
                },
            );
        }
    }
}

/// A texture a plane (or the glyph atlas) is copied into and sampled from.
pub(super) fn plane_texture(
    device: &wgpu::Device,
    width: u32,
    height: u32,
    format: wgpu::TextureFormat,
) -> wgpu::Texture {
    let usage = wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST;
    texture_2d(device, "plane", width, height, format, usage)
}
