//! Camera photo → small, upright, metadata-free JPEG plus thumbnail, both hashed.

use std::io::{BufRead, Cursor, Seek};

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use crate::decode::{self, DecodeLimits, Pixels, SourceFormat};
use crate::metadata::{self, GpsPosition, TakenAt};
use crate::{ContentHash, MediaError};

/// How photos are prepared. `Default` is what the field app stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoOptions {
    /// The stored photo's long side is at most this (never upscaled).
    pub max_long_side: u32,
    /// The thumbnail's long side is at most this (never upscaled).
    pub thumb_long_side: u32,
    /// JPEG quality of the stored photo, 1..=100.
    pub quality: u8,
    /// JPEG quality of the thumbnail, 1..=100.
    pub thumb_quality: u8,
    /// Memory and size bounds for decoding.
    pub limits: DecodeLimits,
}

impl Default for PhotoOptions {
    fn default() -> Self {
        PhotoOptions {
            max_long_side: 1600,
            thumb_long_side: 320,
            quality: 80,
            thumb_quality: 75,
            limits: DecodeLimits::default(),
        }
    }
}

/// A photo ready to be stored: bytes, their hashes, and the evidence metadata read from EXIF.
/// The JPEGs carry no EXIF, XMP, ICC or comments; the metadata travels beside them.
#[derive(Clone, PartialEq)]
pub struct PreparedPhoto {
    /// The stored JPEG.
    pub jpeg: Vec<u8>,
    /// SHA-256 of `jpeg`: the photo's identity from here on.
    pub sha256: ContentHash,
    /// Width of `jpeg` (upright).
    pub width: u32,
    /// Height of `jpeg` (upright).
    pub height: u32,
    /// The thumbnail JPEG.
    pub thumbnail: Vec<u8>,
    /// SHA-256 of `thumbnail`.
    pub thumb_sha256: ContentHash,
    /// Thumbnail width.
    pub thumb_width: u32,
    /// Thumbnail height.
    pub thumb_height: u32,
    /// The EXIF orientation (1..=8) that was applied to make the pixels upright; 1 = none.
    pub orientation_applied: u8,
    /// Capture time from EXIF.
    pub taken_at: Option<TakenAt>,
    /// Capture position from EXIF.
    pub gps: Option<GpsPosition>,
    /// What the input was.
    pub source_format: SourceFormat,
    /// Input width as stored (before orientation).
    pub source_width: u32,
    /// Input height as stored (before orientation).
    pub source_height: u32,
}

impl PreparedPhoto {
    /// MIME type of the stored photo and thumbnail.
    pub const MIME: &'static str = "image/jpeg";
}

impl std::fmt::Debug for PreparedPhoto {
    // Leave the bytes out: a Debug print of a photo should not be a megabyte of numbers.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedPhoto")
            .field("sha256", &self.sha256)
            .field("bytes", &self.jpeg.len())
            .field("width", &self.width)
            .field("height", &self.height)
            .field("thumb_sha256", &self.thumb_sha256)
            .field("thumb_bytes", &self.thumbnail.len())
            .field("orientation_applied", &self.orientation_applied)
            .field("taken_at", &self.taken_at)
            .field("gps", &self.gps)
            .field("source_format", &self.source_format)
            .finish()
    }
}

/// Runs the whole photo pipeline in memory. Writes nothing; on `Err` there is nothing to store.
pub fn prepare_photo(bytes: &[u8], opts: &PhotoOptions) -> Result<PreparedPhoto, MediaError> {
    prepare_photo_from_reader(Cursor::new(bytes), opts)
}

/// As [`prepare_photo`], reading from a seekable stream (e.g. a `BufReader<File>`), so a large
/// file is decoded as it is read instead of being copied into memory first. I/O errors other
/// than a short read come back as `MediaError::Read`.
pub fn prepare_photo_from_reader<R: BufRead + Seek>(
    reader: R,
    opts: &PhotoOptions,
) -> Result<PreparedPhoto, MediaError> {
    let max_long_side = opts.max_long_side.max(1);
    let mut input = decode::open(reader, &opts.limits)?;
    let meta = metadata::read_capture_metadata_from(&mut input.reader);
    let decoded = decode::decode(&mut input, max_long_side, &opts.limits)?;
    drop(input);

    // Target size is computed from the original dimensions so that DCT scaling does not change
    // the result's size; orientation only swaps the axes, so it is applied after the (cheaper)
    // resize of the smaller picture.
    let (w, h) = fit(decoded.source_width, decoded.source_height, max_long_side);
    let resized = resize(&mut Resizer::new(), &decoded.pixels, w, h)?;
    let (source_format, source_width, source_height) =
        (decoded.format, decoded.source_width, decoded.source_height);
    // The full decoded picture is the biggest buffer; free it before allocating more.
    drop(decoded);
    let upright = orient(resized, meta.orientation);

    // The thumbnail is made from the upright photo on a second core while the photo is encoded.
    let (tw, th) = fit(upright.width, upright.height, opts.thumb_long_side.max(1));
    let (jpeg, thumb) = std::thread::scope(|scope| {
        let thumb = scope.spawn(|| -> Result<Vec<u8>, MediaError> {
            let small = resize(&mut Resizer::new(), &upright, tw, th)?;
            encode_jpeg(&small, opts.thumb_quality)
        });
        let jpeg = encode_jpeg(&upright, opts.quality);
        let thumb = thumb.join().unwrap_or(Err(MediaError::Encode {
            detail: "thumbnail thread panicked".to_owned(),
        }));
        (jpeg, thumb)
    });
    let (jpeg, thumbnail) = (jpeg?, thumb?);

    Ok(PreparedPhoto {
        sha256: ContentHash::of(&jpeg),
        width: upright.width,
        height: upright.height,
        jpeg,
        thumb_sha256: ContentHash::of(&thumbnail),
        thumbnail,
        thumb_width: tw,
        thumb_height: th,
        orientation_applied: meta.orientation,
        taken_at: meta.taken_at,
        gps: meta.gps,
        source_format,
        source_width,
        source_height,
    })
}

/// The largest size with the same aspect ratio whose long side is at most `max_long`; never
/// larger than the input.
pub(crate) fn fit(width: u32, height: u32, max_long: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= max_long {
        return (width, height);
    }
    let scale = f64::from(max_long) / f64::from(long);
    let w = ((f64::from(width) * scale).round() as u32).clamp(1, max_long);
    let h = ((f64::from(height) * scale).round() as u32).clamp(1, max_long);
    (w, h)
}

fn pixel_type(channels: u8) -> PixelType {
    if channels == 1 {
        PixelType::U8
    } else {
        PixelType::U8x3
    }
}

fn resize(
    resizer: &mut Resizer,
    src: &Pixels,
    width: u32,
    height: u32,
) -> Result<Pixels, MediaError> {
    if src.width == width && src.height == height {
        return Ok(Pixels {
            width,
            height,
            channels: src.channels,
            data: src.data.clone(),
        });
    }
    let internal = |e: &dyn std::fmt::Display| MediaError::Encode {
        detail: format!("resize: {e}"),
    };
    let pt = pixel_type(src.channels);
    let view = ImageRef::new(src.width, src.height, &src.data, pt).map_err(|e| internal(&e))?;
    let mut dst = Image::new(width, height, pt);
    // Lanczos3 is also what libvips uses; a softer filter would make smaller files but blur
    // the small print on meters and seals that these photos exist to show.
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    resizer
        .resize(&view, &mut dst, &options)
        .map_err(|e| internal(&e))?;
    Ok(Pixels {
        width,
        height,
        channels: src.channels,
        data: dst.into_vec(),
    })
}

/// Applies EXIF orientation `o` (1..=8) so the pixels are upright and the tag can be dropped.
pub(crate) fn orient(src: Pixels, o: u8) -> Pixels {
    if !(2..=8).contains(&o) {
        return src;
    }
    let (w, h) = (src.width as usize, src.height as usize);
    let c = usize::from(src.channels);
    let swaps = o >= 5;
    let (dw, dh) = if swaps { (h, w) } else { (w, h) };
    let mut data = vec![0u8; src.data.len()];
    for y in 0..dh {
        let row = &mut data[y * dw * c..(y + 1) * dw * c];
        for x in 0..dw {
            // Where destination (x, y) comes from in the stored picture.
            let (sx, sy) = match o {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (y, h - 1 - x),
                7 => (w - 1 - y, h - 1 - x),
                _ => (w - 1 - y, x), // 8
            };
            let s = (sy * w + sx) * c;
            row[x * c..x * c + c].copy_from_slice(&src.data[s..s + c]);
        }
    }
    Pixels {
        width: dw as u32,
        height: dh as u32,
        channels: src.channels,
        data,
    }
}

/// Baseline JPEG, 4:2:0, standard Huffman tables, no metadata segments besides JFIF.
pub(crate) fn encode_jpeg(p: &Pixels, quality: u8) -> Result<Vec<u8>, MediaError> {
    let too_big = || MediaError::Encode {
        detail: format!("{}×{} exceeds the JPEG size limit", p.width, p.height),
    };
    let w = u16::try_from(p.width).map_err(|_| too_big())?;
    let h = u16::try_from(p.height).map_err(|_| too_big())?;
    let mut out = Vec::with_capacity(p.data.len() / 8);
    let mut encoder = Encoder::new(&mut out, quality.clamp(1, 100));
    encoder.set_sampling_factor(SamplingFactor::F_2_2);
    // jpeg-encoder 0.7's optimised tables save ~1% but, with 4:2:0, are decoded with wrong
    // colours by zune-jpeg 0.5 (the `image` crate's JPEG decoder) while libjpeg-turbo and
    // jpeg-decoder read them fine. Evidence must look right in every viewer, so: standard tables.
    encoder.set_optimized_huffman_tables(false);
    let color = if p.channels == 1 {
        ColorType::Luma
    } else {
        ColorType::Rgb
    };
    encoder
        .encode(&p.data, w, h, color)
        .map_err(|e| MediaError::Encode {
            detail: e.to_string(),
        })?;
    Ok(out)
}

/// A camera-sized test picture as a baseline JPEG (what a phone camera writes): a colour
/// gradient with fine texture, so the file is as large and as slow to decode as a real photo of
/// that size. For tests and for measuring the wait a technician sees; `seed` makes each distinct.
pub fn test_photo_jpeg(width: u32, height: u32, seed: u32) -> Result<Vec<u8>, MediaError> {
    let mut data = Vec::with_capacity(width as usize * height as usize * 3);
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    for y in 0..height {
        for x in 0..width {
            // xorshift: texture like leaves or brickwork, not flat colour a JPEG would shrink away.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let grain = (state & 31) as u8;
            let r = ((x * 255 / width.max(1)) as u8).saturating_add(grain);
            let g = ((y * 255 / height.max(1)) as u8).saturating_add(grain / 2);
            let b = (((x + y) / 16) as u8 ^ (seed as u8)).saturating_add(grain);
            data.extend_from_slice(&[r, g, b]);
        }
    }
    encode_jpeg(
        &Pixels {
            width,
            height,
            channels: 3,
            data,
        },
        90,
    )
}
