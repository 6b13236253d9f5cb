//! heatcrew-media integration tests: the library and the `heatcrew-media` CLI on generated
//! photos (EXIF written by kamadak-exif's writer), signatures drawn in code, and hostile inputs.
//! One test binary; this file holds the fixtures built in code, a module per subject:
//! `photo`, `bad_input`, `signature`, `cli`, `fuzz`.

use std::io::Cursor;
use std::path::Path;
use std::process::Command;

use exif::experimental::Writer as ExifWriter;
use exif::{Field, In, Rational, Tag, Value};
use heatcrew_media::{
    MediaError, PhotoOptions, SignatureOptions, SourceFormat, prepare_photo, prepare_signature,
};
use image::{DynamicImage, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use proptest::prelude::*;

mod bad_input;
mod cli;
mod fuzz;
mod photo;
mod signature;

// ---------------------------------------------------------------------------------------------
// Fixtures built in code

/// Capture metadata written into test photos, plus fields that must not survive.
struct Exif {
    orientation: u16,
    taken: Option<&'static str>,
    offset: Option<&'static str>,
    /// (lat, N/S, lon, E/W) as degrees/minutes/seconds×100.
    gps: Option<([u32; 3], &'static str, [u32; 3], &'static str)>,
}

const BEIJING: ([u32; 3], &str, [u32; 3], &str) = ([39, 54, 1512], "N", [116, 24, 2664], "E");

fn ascii(tag: Tag, s: &str) -> Field {
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Ascii(vec![s.as_bytes().to_vec()]),
    }
}

fn dms(tag: Tag, [d, m, s100]: [u32; 3]) -> Field {
    let r = |num, denom| Rational { num, denom };
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Rational(vec![r(d, 1), r(m, 1), r(s100, 100)]),
    }
}

/// A TIFF-structured EXIF block with orientation, time, GPS and identifying junk (make, model,
/// serial number, a user comment) that the pipeline must strip.
fn exif_block(e: &Exif) -> Vec<u8> {
    let mut fields = vec![
        Field {
            tag: Tag::Orientation,
            ifd_num: In::PRIMARY,
            value: Value::Short(vec![e.orientation]),
        },
        ascii(Tag::Make, "TestPhone"),
        ascii(Tag::Model, "Model X with serial 12345"),
        ascii(Tag::BodySerialNumber, "SN-SECRET-0001"),
        Field {
            tag: Tag::UserComment,
            ifd_num: In::PRIMARY,
            value: Value::Undefined(b"ASCII\0\0\0private note".to_vec(), 0),
        },
    ];
    if let Some(t) = e.taken {
        fields.push(ascii(Tag::DateTimeOriginal, t));
        fields.push(ascii(Tag::DateTime, "2030:01:01 00:00:00"));
    }
    if let Some(o) = e.offset {
        fields.push(ascii(Tag::OffsetTimeOriginal, o));
    }
    if let Some((lat, ns, lon, ew)) = e.gps {
        fields.push(ascii(Tag::GPSLatitudeRef, ns));
        fields.push(dms(Tag::GPSLatitude, lat));
        fields.push(ascii(Tag::GPSLongitudeRef, ew));
        fields.push(dms(Tag::GPSLongitude, lon));
    }
    let mut writer = ExifWriter::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut out = Cursor::new(Vec::new());
    writer
        .write(&mut out, false)
        .expect("EXIF test block encodes");
    out.into_inner()
}

/// A picture whose four quadrants have distinct colours (stored top-left red, top-right green,
/// bottom-left blue, bottom-right yellow) over a gentle gradient, so orientation and scaling can
/// be checked by sampling.
fn quadrants(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let (left, top) = (x < w / 2, y < h / 2);
        let shade = ((x + y) % 32) as u8;
        match (left, top) {
            (true, true) => Rgb([230 - shade, 20, 20]),
            (false, true) => Rgb([20, 200 - shade, 20]),
            (true, false) => Rgb([20, 20, 230 - shade]),
            (false, false) => Rgb([230 - shade, 220, 20]),
        }
    })
}

fn jpeg_with_exif(img: &RgbImage, exif: Option<&Exif>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 92);
    if let Some(e) = exif {
        enc.add_exif_metadata(&exif_block(e))
            .expect("EXIF fits in APP1");
    }
    // An XMP packet and a comment-like APP segment that must not reach the output either.
    enc.add_app_segment(
        1,
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>owner: someone</x:xmpmeta>".to_vec(),
    )
    .expect("XMP segment fits");
    enc.encode(
        img.as_raw(),
        img.width() as u16,
        img.height() as u16,
        jpeg_encoder::ColorType::Rgb,
    )
    .expect("test JPEG encodes");
    out
}

fn png_bytes(img: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("test PNG encodes");
    out
}

fn decode(bytes: &[u8]) -> RgbImage {
    image::load_from_memory(bytes)
        .expect("pipeline output decodes")
        .into_rgb8()
}

/// Which of the test colours a pixel is closest to.
fn colour_at(img: &RgbImage, x: u32, y: u32) -> &'static str {
    let p = img.get_pixel(x, y).0.map(i32::from);
    let named = [
        ("red", [225, 20, 20]),
        ("green", [20, 195, 20]),
        ("blue", [20, 20, 225]),
        ("yellow", [225, 220, 20]),
    ];
    named
        .iter()
        .min_by_key(|(_, c)| (0..3).map(|i| (p[i] - c[i]).pow(2)).sum::<i32>())
        .map(|(n, _)| *n)
        .unwrap_or("none")
}

/// Colours at the centres of the four quadrants: [top-left, top-right, bottom-left, bottom-right].
fn corners(img: &RgbImage) -> [&'static str; 4] {
    let (w, h) = (img.width(), img.height());
    [
        colour_at(img, w / 4, h / 4),
        colour_at(img, 3 * w / 4, h / 4),
        colour_at(img, w / 4, 3 * h / 4),
        colour_at(img, 3 * w / 4, 3 * h / 4),
    ]
}

/// JPEG marker segments before the scan: (marker, payload).
fn jpeg_segments(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 2;
    while i + 4 <= bytes.len() && bytes[i] == 0xFF {
        let marker = bytes[i + 1];
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        out.push((marker, bytes[i + 4..i + 2 + len].to_vec()));
        if marker == 0xDA {
            break;
        }
        i += 2 + len;
    }
    out
}

fn code(result: Result<impl std::fmt::Debug, MediaError>) -> &'static str {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => {
            assert!(
                !e.message().is_empty() && !e.message_zh().is_empty(),
                "every error carries a message in both languages"
            );
            e.code().as_str()
        }
    }
}

fn opts() -> PhotoOptions {
    PhotoOptions::default()
}
