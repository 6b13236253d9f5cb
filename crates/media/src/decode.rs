//! Decoding under a memory budget: the format is recognised from the bytes (never the name),
//! dimensions are checked against the limits before any pixel buffer is allocated, and JPEGs are
//! decoded at 1/2, 1/4 or 1/8 scale when the output will be that small anyway.

use std::io::{self, BufRead, Read, Seek, SeekFrom};
use std::panic::{self, AssertUnwindSafe};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use crate::MediaError;

/// Limits that bound the memory and work one input may cost. The defaults admit any phone photo
/// (up to 200 MP sensors) and refuse anything that would need more than 256 MiB of pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted file.
    pub max_input_bytes: u64,
    /// Largest accepted width × height as declared by the header.
    pub max_pixels: u64,
    /// Largest buffer a decoder may need: the pixels after JPEG scaling, the full-size DCT
    /// coefficients of a progressive JPEG, or the full-size RGBA picture for PNG and WebP.
    pub max_decoded_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_input_bytes: 64 * 1024 * 1024,
            max_pixels: 200_000_000,
            max_decoded_bytes: 256 * 1024 * 1024,
        }
    }
}

/// The picture formats this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// JPEG (camera photos).
    Jpeg,
    /// PNG (screenshots, signatures).
    Png,
    /// WebP (some Android galleries).
    WebP,
}

impl SourceFormat {
    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "image/jpeg",
            SourceFormat::Png => "image/png",
            SourceFormat::WebP => "image/webp",
        }
    }
}

/// Recognises the format from the first bytes. Formats we know but do not read get a
/// message naming them, so a technician can change the camera setting.
pub fn sniff(bytes: &[u8]) -> Result<SourceFormat, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::EmptyFile);
    }
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Ok(SourceFormat::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(SourceFormat::Png);
    }
    if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return Ok(SourceFormat::WebP);
    }
    let unsupported = |format| Err(MediaError::UnsupportedFormat { format });
    match bytes.get(4..12) {
        Some(b"ftypheic" | b"ftypheix" | b"ftypmif1" | b"ftyphevc" | b"ftypmsf1") => {
            return unsupported("HEIC");
        }
        Some(b"ftypavif") => return unsupported("AVIF"),
        _ => {}
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return unsupported("GIF");
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return unsupported("TIFF");
    }
    if starts(b"BM") && bytes.get(6..10) == Some(&[0, 0, 0, 0]) {
        return unsupported("BMP");
    }
    Err(MediaError::NotAnImage)
}

/// Decoded pixels, 8 bits per channel, tightly packed rows.
#[derive(Debug)]
pub(crate) struct Pixels {
    pub width: u32,
    pub height: u32,
    /// 1 (grey) or 3 (RGB).
    pub channels: u8,
    pub data: Vec<u8>,
}

/// Decoded picture and what it was before scaling.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub pixels: Pixels,
    pub format: SourceFormat,
    pub source_width: u32,
    pub source_height: u32,
}

/// The input as a seekable stream, so that a file can be decoded without first copying it
/// whole into memory (a 12 MP photo is 4–12 MB).
pub(crate) struct Input<R> {
    pub reader: R,
    pub format: SourceFormat,
}

/// Reads the first bytes to recognise the format and checks the size limit, leaving the reader
/// at the start.
pub(crate) fn open<R: BufRead + Seek>(
    mut reader: R,
    limits: &DecodeLimits,
) -> Result<Input<R>, MediaError> {
    let len = reader.seek(SeekFrom::End(0)).map_err(read_error)?;
    reader.rewind().map_err(read_error)?;
    let mut head = Vec::with_capacity(16);
    (&mut reader)
        .take(16)
        .read_to_end(&mut head)
        .map_err(read_error)?;
    let format = sniff(&head)?;
    if len > limits.max_input_bytes {
        return Err(MediaError::TooLarge {
            bytes: len,
            max_bytes: limits.max_input_bytes,
        });
    }
    reader.rewind().map_err(read_error)?;
    Ok(Input { reader, format })
}

pub(crate) fn read_error(e: io::Error) -> MediaError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        MediaError::Truncated
    } else {
        MediaError::Read {
            detail: e.to_string(),
        }
    }
}

/// Decodes so that the long side is at least `want_long_side` when the source allows
/// (JPEG DCT scaling), within `limits`. Decoder panics are contained and reported as errors.
pub(crate) fn decode<R: BufRead + Seek>(
    input: &mut Input<R>,
    want_long_side: u32,
    limits: &DecodeLimits,
) -> Result<Decoded, MediaError> {
    let format = input.format;
    input.reader.rewind().map_err(read_error)?;
    let reader = &mut input.reader;
    // The decoders are third-party code fed hostile bytes; a panic must not take the app down.
    panic::catch_unwind(AssertUnwindSafe(|| match format {
        SourceFormat::Jpeg => decode_jpeg(reader, want_long_side, limits),
        SourceFormat::Png | SourceFormat::WebP => decode_with_image(reader, format, limits),
    }))
    .unwrap_or(Err(MediaError::DecoderPanicked))
}

fn check_dimensions(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), MediaError> {
    if width == 0 || height == 0 {
        return Err(MediaError::Corrupt {
            detail: format!("header declares {width}×{height} pixels"),
        });
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(MediaError::DimensionsTooLarge { width, height });
    }
    Ok(())
}

fn decode_jpeg<R: BufRead + Seek>(
    reader: &mut R,
    want_long_side: u32,
    limits: &DecodeLimits,
) -> Result<Decoded, MediaError> {
    let mut decoder = jpeg_decoder::Decoder::new(&mut *reader);
    decoder.set_max_decoding_buffer_size(
        usize::try_from(limits.max_decoded_bytes).unwrap_or(usize::MAX),
    );
    decoder.read_info().map_err(jpeg_error)?;
    let info = decoder.info().ok_or_else(|| MediaError::Corrupt {
        detail: "no frame header".to_owned(),
    })?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_dimensions(width, height, limits)?;
    // A progressive JPEG keeps every DCT coefficient of the full-size picture until the last
    // scan, whatever the output scale: 2 bytes per sample, up to 3 samples per pixel.
    if info.coding_process == jpeg_decoder::CodingProcess::DctProgressive
        && u64::from(width) * u64::from(height) * 6 > limits.max_decoded_bytes
    {
        return Err(MediaError::DimensionsTooLarge { width, height });
    }

    let channels = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => 1,
        jpeg_decoder::PixelFormat::RGB24 => 3,
        // 12-bit and CMYK JPEGs do not come out of phone cameras; the general decoder converts them.
        jpeg_decoder::PixelFormat::L16 | jpeg_decoder::PixelFormat::CMYK32 => {
            drop(decoder);
            reader.rewind().map_err(read_error)?;
            return decode_with_image(reader, SourceFormat::Jpeg, limits);
        }
    };
    let want = u16::try_from(want_long_side).unwrap_or(u16::MAX).max(1);
    if want < info.width.max(info.height) {
        decoder.scale(want, want).map_err(jpeg_error)?;
    }
    let data = decoder.decode().map_err(jpeg_error)?;
    let info = decoder.info().ok_or_else(|| MediaError::Corrupt {
        detail: "no frame header after decoding".to_owned(),
    })?;
    let (out_w, out_h) = (u32::from(info.width), u32::from(info.height));
    if data.len() as u64 != u64::from(out_w) * u64::from(out_h) * u64::from(channels) {
        return Err(MediaError::Corrupt {
            detail: "decoder returned a buffer of the wrong size".to_owned(),
        });
    }
    Ok(Decoded {
        pixels: Pixels {
            width: out_w,
            height: out_h,
            channels,
            data,
        },
        format: SourceFormat::Jpeg,
        source_width: width,
        source_height: height,
    })
}

fn jpeg_error(err: jpeg_decoder::Error) -> MediaError {
    match err {
        jpeg_decoder::Error::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            MediaError::Truncated
        }
        jpeg_decoder::Error::Unsupported(feature) => MediaError::Corrupt {
            detail: format!("unsupported JPEG feature: {feature:?}"),
        },
        other => MediaError::Corrupt {
            detail: other.to_string(),
        },
    }
}

fn decode_with_image<R: BufRead + Seek>(
    reader: &mut R,
    format: SourceFormat,
    limits: &DecodeLimits,
) -> Result<Decoded, MediaError> {
    let image_format = match format {
        SourceFormat::Jpeg => ImageFormat::Jpeg,
        SourceFormat::Png => ImageFormat::Png,
        SourceFormat::WebP => ImageFormat::WebP,
    };
    let mut reader = ImageReader::with_format(reader, image_format);
    let mut image_limits = image::Limits::default();
    image_limits.max_alloc = Some(limits.max_decoded_bytes);
    reader.limits(image_limits);
    let decoder = reader.into_decoder().map_err(image_error)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, limits)?;
    // Without DCT scaling the whole picture is decoded, and kept as 8-bit RGBA at worst: check
    // that budget before the decoder allocates anything.
    if u64::from(width) * u64::from(height) * 4 > limits.max_decoded_bytes {
        return Err(MediaError::DimensionsTooLarge { width, height });
    }
    let image = DynamicImage::from_decoder(decoder).map_err(image_error)?;
    Ok(Decoded {
        pixels: flatten(image),
        format,
        source_width: width,
        source_height: height,
    })
}

/// Grey stays grey; anything with alpha is laid on white (a transparent PNG must not turn black).
fn flatten(image: DynamicImage) -> Pixels {
    let (width, height) = (image.width(), image.height());
    if !image.color().has_color() && !image.color().has_alpha() {
        return Pixels {
            width,
            height,
            channels: 1,
            data: image.into_luma8().into_raw(),
        };
    }
    if !image.color().has_alpha() {
        return Pixels {
            width,
            height,
            channels: 3,
            data: image.into_rgb8().into_raw(),
        };
    }
    let rgba = image.into_rgba8().into_raw();
    let mut data = Vec::with_capacity(rgba.len() / 4 * 3);
    for px in rgba.chunks_exact(4) {
        let a = u32::from(px[3]);
        for &c in &px[..3] {
            data.push(((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8);
        }
    }
    Pixels {
        width,
        height,
        channels: 3,
        data,
    }
}

pub(crate) fn image_error(err: image::ImageError) -> MediaError {
    use image::ImageError;
    match err {
        ImageError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => MediaError::Truncated,
        ImageError::Limits(e) => MediaError::Corrupt {
            detail: format!("decoder memory limit: {e}"),
        },
        ImageError::Unsupported(e) => MediaError::Corrupt {
            detail: format!("unsupported: {e}"),
        },
        other => {
            let detail = other.to_string();
            // The png and webp decoders report a short file as a format error, not as EOF.
            let lower = detail.to_ascii_lowercase();
            if lower.contains("eof") || lower.contains("end of file") || lower.contains("truncat") {
                MediaError::Truncated
            } else {
                MediaError::Corrupt { detail }
            }
        }
    }
}
