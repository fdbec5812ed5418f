// The video wall. Two pipelines share this module:
// - `vs_tile`/`fs_tile`: one quad per tile, sampling the stream's planar YUV as the decoder gave
//   it (I420: three R8 planes; NV12: R8 luma and RG8 interleaved chroma) and converting to RGB
//   with the tile's own matrix and range. Small tiles average a grid of bilinear luma taps over
//   each pixel's footprint, so a 640-pixel stream on a 240-pixel tile does not shimmer.
// - `vs_overlay`/`fs_overlay`: instanced quads for badges, borders and text (glyph coverage from
//   an R8 atlas), alpha-blended over the video.

struct Tile {
    // Destination in clip space: x0, y0, x1, y1.
    dst: vec4<f32>,
    // Source rectangle in the frame's texture coordinates: u0, v0, u1, v1 (crop and zoom).
    src: vec4<f32>,
    // Rows of the YUV -> RGB matrix, applied to (y, cb, cr, 1).
    row_r: vec4<f32>,
    row_g: vec4<f32>,
    row_b: vec4<f32>,
    // x: bilinear taps per axis (1 to 4); y: 1 when chroma is interleaved (NV12); zw: unused.
    params: vec4<f32>,
};

@group(0) @binding(0) var<uniform> tile: Tile;
@group(0) @binding(1) var plane_y: texture_2d<f32>;
@group(0) @binding(2) var plane_u: texture_2d<f32>;
@group(0) @binding(3) var plane_v: texture_2d<f32>;
@group(0) @binding(4) var linear_sampler: sampler;

struct TileVertex {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
};

fn corner(index: u32) -> vec2<f32> {
    // Two triangles over the unit square.
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
        vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0),
    );
    return corners[index];
}

@vertex
fn vs_tile(@builtin(vertex_index) index: u32) -> TileVertex {
    let c = corner(index);
    var out: TileVertex;
    out.position = vec4<f32>(mix(tile.dst.x, tile.dst.z, c.x), mix(tile.dst.y, tile.dst.w, c.y), 0.0, 1.0);
    out.uv = vec2<f32>(mix(tile.src.x, tile.src.z, c.x), mix(tile.src.y, tile.src.w, c.y));
    return out;
}

fn sample_chroma(uv: vec2<f32>) -> vec2<f32> {
    if (tile.params.y > 0.5) {
        return textureSampleLevel(plane_u, linear_sampler, uv, 0.0).rg;
    }
    let cb = textureSampleLevel(plane_u, linear_sampler, uv, 0.0).r;
    let cr = textureSampleLevel(plane_v, linear_sampler, uv, 0.0).r;
    return vec2<f32>(cb, cr);
}

@fragment
fn fs_tile(in: TileVertex) -> @location(0) vec4<f32> {
    // How much of the source one output pixel covers (derivatives in uniform control flow).
    let footprint = vec2<f32>(dpdx(in.uv.x), dpdy(in.uv.y));
    if (tile.params.x < 1.5) {
        // One bilinear tap is enough: the common case, kept free of the loop.
        let yuv1 = vec4<f32>(textureSampleLevel(plane_y, linear_sampler, in.uv, 0.0).r, sample_chroma(in.uv), 1.0);
        let rgb1 = vec3<f32>(dot(tile.row_r, yuv1), dot(tile.row_g, yuv1), dot(tile.row_b, yuv1));
        return vec4<f32>(clamp(rgb1, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
    }
    let taps = i32(clamp(tile.params.x, 1.0, 4.0));
    let n = f32(taps);
    // Luma carries the detail that shimmers: average a grid of bilinear taps over the
    // footprint. Chroma has half the resolution; one bilinear sample covers it.
    var luma = 0.0;
    for (var j = 0; j < taps; j = j + 1) {
        for (var i = 0; i < taps; i = i + 1) {
            let offset = (vec2<f32>(f32(i), f32(j)) + 0.5) / n - 0.5;
            luma = luma + textureSampleLevel(plane_y, linear_sampler, in.uv + offset * footprint, 0.0).r;
        }
    }
    // The conversion is affine, so averaging before converting is exact.
    let yuv = vec4<f32>(luma / (n * n), sample_chroma(in.uv), 1.0);
    let rgb = vec3<f32>(dot(tile.row_r, yuv), dot(tile.row_g, yuv), dot(tile.row_b, yuv));
    return vec4<f32>(clamp(rgb, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
}

// Overlays.

@group(0) @binding(0) var glyph_atlas: texture_2d<f32>;
@group(0) @binding(1) var atlas_sampler: sampler;

struct OverlayInstance {
    // Destination in clip space: x0, y0, x1, y1.
    @location(0) dst: vec4<f32>,
    // Atlas texture coordinates: u0, v0, u1, v1 (unused for solid quads).
    @location(1) uv: vec4<f32>,
    // Straight (not premultiplied) colour.
    @location(2) colour: vec4<f32>,
    // x: 1 for a glyph (alpha from the atlas), 0 for a solid quad.
    @location(3) kind: vec4<f32>,
};

struct OverlayVertex {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
    @location(1) colour: vec4<f32>,
    @location(2) glyph: f32,
};

@vertex
fn vs_overlay(@builtin(vertex_index) index: u32, instance: OverlayInstance) -> OverlayVertex {
    let c = corner(index);
    var out: OverlayVertex;
    out.position = vec4<f32>(mix(instance.dst.x, instance.dst.z, c.x), mix(instance.dst.y, instance.dst.w, c.y), 0.0, 1.0);
    out.uv = vec2<f32>(mix(instance.uv.x, instance.uv.z, c.x), mix(instance.uv.y, instance.uv.w, c.y));
    out.colour = instance.colour;
    out.glyph = instance.kind.x;
    return out;
}

@fragment
fn fs_overlay(in: OverlayVertex) -> @location(0) vec4<f32> {
    var alpha = in.colour.a;
    if (in.glyph > 0.5) {
        alpha = alpha * textureSampleLevel(glyph_atlas, atlas_sampler, in.uv, 0.0).r;
    }
    return vec4<f32>(in.colour.rgb, alpha);
}
