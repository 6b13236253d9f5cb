//! Customer signature drawn on the screen → trimmed, compact greyscale PNG, hashed.
//!
//! The canvas may export transparent strokes, dark ink on white, or light ink on a dark theme;
//! whatever the background, the stored signature is dark ink on white.

use std::io::Cursor;

use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::{ImageDecoder, ImageEncoder, ImageFormat, ImageReader};

use crate::decode::{self, SourceFormat, image_error};
use crate::{ContentHash, MediaError};

/// What counts as a signature. `Default` suits a phone or tablet canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureOptions {
    /// Fewer ink pixels than this is "empty" (a tap or a stray touch).
    pub min_ink_pixels: u64,
    /// The inked area's long side must be at least this many pixels, or this share (in per cent)
    /// of the canvas's long side, whichever is larger: a dot or a tiny tick is not a signature.
    pub min_extent_px: u32,
    /// See `min_extent_px`.
    pub min_extent_percent: u32,
    /// Blank margin kept around the ink after trimming.
    pub margin_px: u32,
    /// Largest accepted canvas, width × height.
    pub max_pixels: u64,
    /// Largest accepted file.
    pub max_input_bytes: u64,
}

impl Default for SignatureOptions {
    fn default() -> Self {
        SignatureOptions {
            min_ink_pixels: 150,
            min_extent_px: 40,
            min_extent_percent: 10,
            margin_px: 8,
            max_pixels: 16_000_000,
            max_input_bytes: 16 * 1024 * 1024,
        }
    }
}

/// A signature ready to be stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PreparedSignature {
    /// Greyscale PNG, dark ink on white, trimmed to the ink plus a margin.
    pub png: Vec<u8>,
    /// SHA-256 of `png`.
    pub sha256: ContentHash,
    /// Width of `png`.
    pub width: u32,
    /// Height of `png`.
    pub height: u32,
    /// Pixels that carry ink.
    pub ink_pixels: u64,
    /// Canvas width as received.
    pub source_width: u32,
    /// Canvas height as received.
    pub source_height: u32,
}

impl PreparedSignature {
    /// MIME type of the stored signature.
    pub const MIME: &'static str = "image/png";
}

impl std::fmt::Debug for PreparedSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedSignature")
            .field("sha256", &self.sha256)
            .field("bytes", &self.png.len())
            .field("width", &self.width)
            .field("height", &self.height)
            .field("ink_pixels", &self.ink_pixels)
            .finish()
    }
}

/// A pixel is ink when it differs from the background by more than this (0..=255 grey levels).
const INK_CONTRAST: i32 = 64;

/// Validates and compacts the PNG exported by the signature canvas. Writes nothing.
pub fn prepare_signature(
    png: &[u8],
    opts: &SignatureOptions,
) -> Result<PreparedSignature, MediaError> {
    match decode::sniff(png)? {
        SourceFormat::Png => {}
        other => {
            return Err(MediaError::UnsupportedFormat {
                format: if other == SourceFormat::Jpeg {
                    "JPEG signature"
                } else {
                    "WebP signature"
                },
            });
        }
    }
    let len = png.len() as u64;
    if len > opts.max_input_bytes {
        return Err(MediaError::TooLarge {
            bytes: len,
            max_bytes: opts.max_input_bytes,
        });
    }
    let grey = std::panic::catch_unwind(|| decode_to_grey(png, opts))
        .unwrap_or(Err(MediaError::DecoderPanicked))?;
    let (w, h) = (grey.width, grey.height);

    // Background = the most common grey level; ink = clearly different from it.
    let mut histogram = [0u64; 256];
    for &v in &grey.data {
        histogram[usize::from(v)] += 1;
    }
    let background = histogram
        .iter()
        .enumerate()
        .max_by_key(|&(_, n)| *n)
        .map_or(255, |(v, _)| v as i32);

    let (mut ink, mut x0, mut y0, mut x1, mut y1) = (0u64, u32::MAX, u32::MAX, 0u32, 0u32);
    for (y, row) in grey.data.chunks_exact(w as usize).enumerate() {
        for (x, &v) in row.iter().enumerate() {
            if (i32::from(v) - background).abs() > INK_CONTRAST {
                ink += 1;
                x0 = x0.min(x as u32);
                x1 = x1.max(x as u32);
                y0 = y0.min(y as u32);
                y1 = y1.max(y as u32);
            }
        }
    }
    let min_extent = opts
        .min_extent_px
        .max(w.max(h) * opts.min_extent_percent / 100);
    let extent = if ink == 0 {
        0
    } else {
        (x1 - x0 + 1).max(y1 - y0 + 1)
    };
    if ink < opts.min_ink_pixels || extent < min_extent {
        return Err(MediaError::SignatureEmpty { ink_pixels: ink });
    }

    let m = opts.margin_px;
    let (cx0, cy0) = (x0.saturating_sub(m), y0.saturating_sub(m));
    let (cx1, cy1) = ((x1 + m).min(w - 1), (y1 + m).min(h - 1));
    let (cw, ch) = (cx1 - cx0 + 1, cy1 - cy0 + 1);
    let dark_background = background < 128;
    let mut out = Vec::with_capacity((cw * ch) as usize);
    for y in cy0..=cy1 {
        let row = &grey.data[(y * w) as usize..((y + 1) * w) as usize];
        for &v in &row[cx0 as usize..=cx1 as usize] {
            // Distance from the background becomes darkness on white; faint canvas noise (less
            // than a tenth of the ink contrast) becomes pure white so it compresses to nothing.
            let d = (i32::from(v) - background).unsigned_abs();
            let d = if d < (INK_CONTRAST as u32) / 10 { 0 } else { d };
            let scale = if dark_background {
                255 - background
            } else {
                background
            }
            .max(1) as u32;
            out.push(255 - (d * 255 / scale).min(255) as u8);
        }
    }

    let mut encoded = Vec::new();
    PngEncoder::new_with_quality(&mut encoded, CompressionType::Best, PngFilter::Adaptive)
        .write_image(&out, cw, ch, image::ExtendedColorType::L8)
        .map_err(|e| MediaError::Encode {
            detail: e.to_string(),
        })?;
    Ok(PreparedSignature {
        sha256: ContentHash::of(&encoded),
        png: encoded,
        width: cw,
        height: ch,
        ink_pixels: ink,
        source_width: w,
        source_height: h,
    })
}

struct Grey {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

/// Decodes within limits and lays the picture on white, as grey levels.
fn decode_to_grey(png: &[u8], opts: &SignatureOptions) -> Result<Grey, MediaError> {
    let mut reader = ImageReader::with_format(Cursor::new(png), ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(opts.max_pixels.saturating_mul(8));
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(image_error)?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(MediaError::Corrupt {
            detail: format!("header declares {width}×{height} pixels"),
        });
    }
    if u64::from(width) * u64::from(height) > opts.max_pixels {
        return Err(MediaError::DimensionsTooLarge { width, height });
    }
    let rgba = image::DynamicImage::from_decoder(decoder)
        .map_err(image_error)?
        .into_rgba8();
    let data = rgba
        .pixels()
        .map(|p| {
            let [r, g, b, a] = p.0;
            let luma = (299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b)) / 1000;
            let a = u32::from(a);
            ((luma * a + 255 * (255 - a) + 127) / 255) as u8
        })
        .collect();
    Ok(Grey {
        width,
        height,
        data,
    })
}
