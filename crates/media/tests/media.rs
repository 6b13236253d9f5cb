//! heatcrew-media integration tests: the library and the `heatcrew-media` CLI on generated
//! photos (EXIF written by kamadak-exif's writer), signatures drawn in code, and hostile inputs.

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

// ---------------------------------------------------------------------------------------------
// Photo pipeline

#[test]
fn orientation_6_photo_comes_out_upright_with_time_and_gps() {
    let stored = quadrants(800, 600);
    let exif = Exif {
        orientation: 6,
        taken: Some("2026:11:27 09:30:15"),
        offset: Some("+08:00"),
        gps: Some(BEIJING),
    };
    let photo = prepare_photo(&jpeg_with_exif(&stored, Some(&exif)), &opts()).expect("valid photo");

    assert_eq!(
        (photo.width, photo.height),
        (600, 800),
        "orientation 6 is a quarter turn: the stored landscape is shown as portrait"
    );
    assert_eq!(
        photo.orientation_applied, 6,
        "the applied orientation is reported"
    );
    let out = decode(&photo.jpeg);
    assert_eq!(
        corners(&out),
        ["blue", "red", "yellow", "green"],
        "turned 90° clockwise: stored top-left (red) is now top-right"
    );

    let taken = photo.taken_at.expect("capture time is kept as evidence");
    assert_eq!(
        taken.to_string(),
        "2026-11-27T09:30:15+08:00",
        "DateTimeOriginal with its offset, not the later DateTime"
    );
    assert_eq!(
        taken.to_utc().map(|t| t.to_rfc3339()),
        Some("2026-11-27T01:30:15+00:00".to_owned()),
        "the offset makes the instant known"
    );
    let gps = photo.gps.expect("GPS is kept as evidence");
    assert!(
        (gps.lat - 39.9042).abs() < 1e-6 && (gps.lon - 116.4074).abs() < 1e-6,
        "degrees/minutes/seconds become decimal degrees: {gps:?}"
    );
}

#[test]
fn every_exif_orientation_matches_the_image_crates_reference() {
    let stored = quadrants(160, 120);
    for o in 1..=8u8 {
        let exif = Exif {
            orientation: u16::from(o),
            taken: None,
            offset: None,
            gps: None,
        };
        let photo =
            prepare_photo(&jpeg_with_exif(&stored, Some(&exif)), &opts()).expect("valid photo");
        let mut reference = DynamicImage::ImageRgb8(stored.clone());
        reference.apply_orientation(
            image::metadata::Orientation::from_exif(o).expect("1..=8 is a valid orientation"),
        );
        let reference = reference.into_rgb8();
        let out = decode(&photo.jpeg);
        assert_eq!(
            out.dimensions(),
            reference.dimensions(),
            "orientation {o}: same size as the reference rotation"
        );
        assert_eq!(
            corners(&out),
            corners(&reference),
            "orientation {o}: quadrants land where the image crate puts them"
        );
    }
}

#[test]
fn output_carries_no_metadata_at_all() {
    let exif = Exif {
        orientation: 6,
        taken: Some("2026:11:27 09:30:15"),
        offset: None,
        gps: Some(BEIJING),
    };
    let photo = prepare_photo(&jpeg_with_exif(&quadrants(400, 300), Some(&exif)), &opts())
        .expect("valid photo");
    for (name, bytes) in [("photo", &photo.jpeg), ("thumbnail", &photo.thumbnail)] {
        let reread = exif::Reader::new().read_from_container(&mut Cursor::new(bytes));
        assert!(
            reread.is_err(),
            "{name}: no EXIF block survives (GPS, serial number, comments are stripped)"
        );
        let app: Vec<u8> = jpeg_segments(bytes)
            .iter()
            .map(|(m, _)| *m)
            .filter(|m| (0xE1..=0xEF).contains(m) || *m == 0xFE)
            .collect();
        assert!(
            app.is_empty(),
            "{name}: no APP1..APP15 or COM segments (XMP, ICC, comments), found {app:x?}"
        );
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("SN-SECRET") && !text.contains("someone") && !text.contains("TestPhone"),
            "{name}: no identifying strings anywhere in the file"
        );
    }
    assert!(
        photo.taken_at.is_some() && photo.gps.is_some(),
        "what is stripped from the file is still reported beside it"
    );
    assert_eq!(
        photo.taken_at.map(|t| t.to_string()),
        Some("2026-11-27T09:30:15".to_owned()),
        "without OffsetTimeOriginal the time stays zone-less rather than guessed"
    );
    assert!(
        photo.taken_at.and_then(|t| t.to_utc()).is_none(),
        "no UTC instant is invented without an offset"
    );
}

#[test]
fn large_photos_shrink_to_1600_and_small_ones_are_not_upscaled() {
    let big =
        prepare_photo(&jpeg_with_exif(&quadrants(3200, 2400), None), &opts()).expect("valid photo");
    assert_eq!(
        (big.width, big.height),
        (1600, 1200),
        "long side capped at 1600 with the aspect ratio kept"
    );
    assert_eq!(
        (big.thumb_width, big.thumb_height),
        (320, 240),
        "thumbnail long side is 320"
    );
    assert_eq!(
        corners(&decode(&big.thumbnail)),
        ["red", "green", "blue", "yellow"],
        "the thumbnail shows the same picture"
    );
    assert_eq!(big.orientation_applied, 1, "no EXIF means orientation 1");
    assert!(
        big.taken_at.is_none() && big.gps.is_none(),
        "no EXIF, no evidence metadata"
    );

    let small =
        prepare_photo(&jpeg_with_exif(&quadrants(640, 480), None), &opts()).expect("valid photo");
    assert_eq!(
        (small.width, small.height),
        (640, 480),
        "a photo smaller than the cap keeps its size (no upscaling)"
    );
    let tiny =
        prepare_photo(&jpeg_with_exif(&quadrants(200, 100), None), &opts()).expect("valid photo");
    assert_eq!(
        (tiny.thumb_width, tiny.thumb_height),
        (200, 100),
        "a thumbnail is not upscaled either"
    );

    let custom = PhotoOptions {
        max_long_side: 1000,
        ..opts()
    };
    let capped =
        prepare_photo(&jpeg_with_exif(&quadrants(3200, 2400), None), &custom).expect("valid photo");
    assert_eq!(
        (capped.width, capped.height),
        (1000, 750),
        "the cap is configurable"
    );
}

#[test]
fn hashes_are_sha256_of_the_stored_bytes_and_stable() {
    let input = jpeg_with_exif(&quadrants(900, 700), None);
    let a = prepare_photo(&input, &opts()).expect("valid photo");
    let b = prepare_photo(&input, &opts()).expect("valid photo");
    use sha2::Digest;
    assert_eq!(
        a.sha256.0,
        <[u8; 32]>::from(sha2::Sha256::digest(&a.jpeg)),
        "sha256 is over exactly the stored bytes"
    );
    assert_eq!(
        a.thumb_sha256.0,
        <[u8; 32]>::from(sha2::Sha256::digest(&a.thumbnail)),
        "thumb_sha256 is over exactly the thumbnail bytes"
    );
    assert_eq!(a.sha256.to_hex().len(), 64, "hex form is 64 characters");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("photo.jpg");
    std::fs::write(&path, &input).expect("write input");
    let file = std::fs::File::open(&path).expect("open input");
    let streamed =
        heatcrew_media::prepare_photo_from_reader(std::io::BufReader::new(file), &opts())
            .expect("valid photo from a file");
    assert_eq!(
        streamed.sha256, a.sha256,
        "streaming from a file gives the same bytes as preparing from memory"
    );
    assert_eq!(
        (a.sha256, a.jpeg.len()),
        (b.sha256, b.jpeg.len()),
        "the same input gives the same file, so retries do not duplicate attachments"
    );
}

#[test]
fn png_and_webp_photos_are_accepted_and_transparency_becomes_white() {
    let mut rgba = RgbaImage::from_pixel(300, 200, Rgba([0, 0, 0, 0]));
    for x in 0..150 {
        for y in 0..200 {
            rgba.put_pixel(x, y, Rgba([200, 30, 30, 255]));
        }
    }
    let png = png_bytes(&DynamicImage::ImageRgba8(rgba.clone()));
    let photo = prepare_photo(&png, &opts()).expect("PNG photo");
    assert_eq!(
        photo.source_format,
        SourceFormat::Png,
        "format sniffed from the bytes"
    );
    let out = decode(&photo.jpeg);
    let right = out.get_pixel(250, 100).0;
    assert!(
        right.iter().all(|&c| c > 240),
        "transparent areas are laid on white, not black: {right:?}"
    );

    let mut webp = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
        .write_image(rgba.as_raw(), 300, 200, image::ExtendedColorType::Rgba8)
        .expect("test WebP encodes");
    let photo = prepare_photo(&webp, &opts()).expect("WebP photo");
    assert_eq!(photo.source_format, SourceFormat::WebP, "WebP is read too");
    assert_eq!(
        (photo.width, photo.height),
        (300, 200),
        "WebP keeps its size"
    );
}

// ---------------------------------------------------------------------------------------------
// Bad input

/// A valid JPEG whose frame header (SOF) is patched to claim `w`×`h`.
fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    patch_sof(jpeg_with_exif(&quadrants(64, 48), None), 0xC0, w, h)
}

/// A valid progressive JPEG whose frame header (SOF2) is patched to claim `w`×`h`.
fn progressive_jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let img = quadrants(64, 48);
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 85);
    enc.set_progressive(true);
    enc.encode(img.as_raw(), 64, 48, jpeg_encoder::ColorType::Rgb)
        .expect("progressive JPEG encodes");
    patch_sof(out, 0xC2, w, h)
}

fn patch_sof(mut bytes: Vec<u8>, sof_marker: u8, w: u16, h: u16) -> Vec<u8> {
    let sof = bytes
        .windows(2)
        .position(|m| m == [0xFF, sof_marker])
        .expect("JPEG has the expected SOF marker");
    bytes[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    bytes
}

/// A real, complete PNG of 9000×9000 black pixels: about 100 KB on disk, 324 MB as RGBA.
fn png_decompression_bomb() -> Vec<u8> {
    let (w, h) = (9000u32, 9000u32);
    let zeros = vec![0u8; (w * h) as usize];
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::NoFilter,
    )
    .write_image(&zeros, w, h, image::ExtendedColorType::L8)
    .expect("bomb PNG encodes");
    out
}

#[test]
fn bad_inputs_get_typed_errors_not_panics() {
    let good = jpeg_with_exif(&quadrants(640, 480), None);
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        ("zero bytes", Vec::new(), &["empty_file"]),
        (
            "text file named .jpg",
            b"Meter reading 1234.5 GJ, seal intact\n".to_vec(),
            &["not_an_image"],
        ),
        (
            "PDF",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj".to_vec(),
            &["not_an_image"],
        ),
        (
            "HEIC from an iPhone",
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(),
            &["unsupported_format"],
        ),
        (
            "JPEG cut in half",
            good[..good.len() / 2].to_vec(),
            &["truncated"],
        ),
        ("JPEG header only", good[..200].to_vec(), &["truncated"]),
        (
            "PNG cut short",
            {
                let p = png_bytes(&DynamicImage::ImageRgb8(quadrants(300, 200)));
                p[..p.len() * 2 / 3].to_vec()
            },
            &["truncated", "corrupt"],
        ),
        (
            "JPEG claiming 60000×60000",
            jpeg_claiming(60000, 60000),
            &["dimensions_too_large"],
        ),
        (
            // 144 MP is under the pixel limit, but a progressive decode must hold every
            // coefficient (~860 MB), so it is refused before allocating.
            "progressive JPEG claiming 12000×12000",
            progressive_jpeg_claiming(12000, 12000),
            &["dimensions_too_large"],
        ),
        ("JPEG claiming 0×48", jpeg_claiming(0, 48), &["corrupt"]),
        (
            "PNG decompression bomb",
            png_decompression_bomb(),
            &["dimensions_too_large"],
        ),
    ];
    for (name, bytes, want) in cases {
        let got = code(prepare_photo(&bytes, &opts()));
        assert!(
            want.contains(&got),
            "{name}: expected one of {want:?}, got {got}"
        );
    }

    let limits = PhotoOptions {
        limits: heatcrew_media::DecodeLimits {
            max_input_bytes: 1000,
            ..Default::default()
        },
        ..opts()
    };
    assert_eq!(
        code(prepare_photo(&good, &limits)),
        "too_large",
        "files over the byte limit are refused before decoding"
    );
}

#[test]
fn the_decompression_bomb_is_small_on_disk() {
    let bomb = png_decompression_bomb();
    assert!(
        bomb.len() < 1_000_000,
        "the bomb is a small file ({} bytes) that would expand to 324 MB, so the limit is what stops it",
        bomb.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Signatures

/// A signature-like stroke: a thick sine wave between x0..x1 on a canvas.
fn draw_signature(canvas: &mut RgbaImage, ink: Rgba<u8>, x0: u32, x1: u32, mid_y: u32) {
    for x in x0..x1 {
        let y = mid_y as f64 + 25.0 * ((x - x0) as f64 / 18.0).sin();
        for dy in -2i32..=2 {
            let yy = (y as i32 + dy) as u32;
            canvas.put_pixel(x, yy, ink);
        }
    }
}

#[test]
fn a_drawn_signature_is_trimmed_and_stored_as_compact_grey_png() {
    let mut canvas = RgbaImage::from_pixel(1200, 400, Rgba([0, 0, 0, 0]));
    draw_signature(&mut canvas, Rgba([10, 10, 60, 255]), 300, 700, 200);
    let input = png_bytes(&DynamicImage::ImageRgba8(canvas));
    let sig = prepare_signature(&input, &SignatureOptions::default()).expect("a real signature");
    assert_eq!(
        (sig.source_width, sig.source_height),
        (1200, 400),
        "the canvas size is reported"
    );
    assert!(
        sig.width <= 400 + 2 * 8 && sig.width >= 400 && sig.height <= 60 + 2 * 8,
        "the blank margin is trimmed to the ink plus 8 px: {}×{}",
        sig.width,
        sig.height
    );
    let decoded = image::load_from_memory(&sig.png).expect("stored signature decodes");
    assert_eq!(
        decoded.color(),
        image::ColorType::L8,
        "stored as 8-bit grey: a third of RGB, a quarter of RGBA"
    );
    assert!(
        sig.png.len() < input.len(),
        "the stored PNG ({} B) is smaller than the canvas export ({} B)",
        sig.png.len(),
        input.len()
    );
    let grey = decoded.into_luma8();
    assert_eq!(grey.get_pixel(0, 0).0[0], 255, "background becomes white");
    assert!(grey.pixels().any(|p| p.0[0] < 80), "the ink stays dark");
    assert_eq!(
        sig.sha256,
        heatcrew_media::ContentHash::of(&sig.png),
        "hash is over the stored PNG"
    );
}

#[test]
fn light_ink_on_a_dark_canvas_is_stored_as_dark_on_white() {
    let mut canvas = RgbaImage::from_pixel(800, 300, Rgba([20, 20, 20, 255]));
    draw_signature(&mut canvas, Rgba([240, 240, 240, 255]), 100, 500, 150);
    let sig = prepare_signature(
        &png_bytes(&DynamicImage::ImageRgba8(canvas)),
        &SignatureOptions::default(),
    )
    .expect("a dark-theme signature is still a signature");
    let grey = image::load_from_memory(&sig.png)
        .expect("decodes")
        .into_luma8();
    assert_eq!(
        grey.get_pixel(0, 0).0[0],
        255,
        "dark background becomes white"
    );
}

#[test]
fn empty_and_near_empty_signatures_are_refused() {
    let blank = RgbaImage::from_pixel(1200, 400, Rgba([0, 0, 0, 0]));
    let mut dot = blank.clone();
    for x in 600..606 {
        for y in 200..206 {
            dot.put_pixel(x, y, Rgba([0, 0, 0, 255]));
        }
    }
    let mut tick = blank.clone();
    draw_signature(&mut tick, Rgba([0, 0, 0, 255]), 600, 640, 200);
    let white = RgbaImage::from_pixel(1200, 400, Rgba([255, 255, 255, 255]));
    for (name, img) in [
        ("transparent canvas", blank),
        ("opaque white canvas", white),
        ("a single dot", dot),
        ("a 40 px tick on a 1200 px canvas", tick),
    ] {
        let err = prepare_signature(
            &png_bytes(&DynamicImage::ImageRgba8(img)),
            &SignatureOptions::default(),
        )
        .expect_err(name);
        assert_eq!(err.code(), "signature_empty", "{name}: refused as empty");
        assert!(
            err.message().contains("sign") && err.message_zh().contains("签名"),
            "{name}: the message tells the customer to sign"
        );
    }
    assert_eq!(
        code(prepare_signature(&[], &SignatureOptions::default())),
        "empty_file",
        "zero bytes is an empty file"
    );
    assert_eq!(
        code(prepare_signature(
            &jpeg_with_exif(&quadrants(100, 50), None),
            &SignatureOptions::default()
        )),
        "unsupported_format",
        "the canvas exports PNG; anything else is refused"
    );
}

// ---------------------------------------------------------------------------------------------
// The CLI

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_heatcrew-media"))
}

fn files_in(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn cli_turns_a_12_mp_orientation_6_photo_into_an_upright_1600_px_jpeg() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("IMG_0001.JPG");
    let exif = Exif {
        orientation: 6,
        taken: Some("2026:11:27 14:05:09"),
        offset: Some("+08:00"),
        gps: Some(BEIJING),
    };
    std::fs::write(&input, jpeg_with_exif(&quadrants(4000, 3000), Some(&exif)))
        .expect("write input");
    let out_dir = dir.path().join("store");

    let out = cli()
        .arg("prepare")
        .arg(&input)
        .arg(&out_dir)
        .output()
        .expect("run heatcrew-media");
    assert!(
        out.status.success(),
        "a valid 12 MP photo is prepared: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    assert_eq!(stdout.lines().count(), 1, "exactly one JSON line: {stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("the line is JSON");
    for key in [
        "sha256",
        "width",
        "height",
        "bytes",
        "thumb_bytes",
        "orientation_applied",
        "taken_at",
        "gps",
        "ms",
    ] {
        assert!(v.get(key).is_some(), "the JSON line has {key}: {v}");
    }
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(1200), Some(1600)),
        "upright (portrait) and long side 1600"
    );
    assert_eq!(v["orientation_applied"], 6, "orientation 6 was applied");
    assert_eq!(
        v["taken_at"], "2026-11-27T14:05:09+08:00",
        "capture time reported"
    );
    assert!(
        (v["gps"]["lat"].as_f64().unwrap_or(0.0) - 39.9042).abs() < 1e-6
            && (v["gps"]["lon"].as_f64().unwrap_or(0.0) - 116.4074).abs() < 1e-6,
        "GPS reported: {}",
        v["gps"]
    );

    let sha = v["sha256"].as_str().expect("sha256 is a string");
    let mut names = files_in(&out_dir);
    names.sort();
    assert_eq!(
        names,
        vec![format!("{sha}.jpg"), format!("{sha}.thumb.jpg")],
        "photo and thumbnail are named by the photo's hash, and no temp files are left"
    );
    let stored = std::fs::read(out_dir.join(format!("{sha}.jpg"))).expect("stored photo");
    assert_eq!(
        heatcrew_media::ContentHash::of(&stored).to_hex(),
        sha,
        "the file's content matches its name"
    );
    assert_eq!(
        stored.len() as u64,
        v["bytes"].as_u64().expect("bytes"),
        "bytes is the stored size"
    );
    let img = decode(&stored);
    assert_eq!(
        corners(&img),
        ["blue", "red", "yellow", "green"],
        "the stored photo is upright"
    );
    assert!(
        exif::Reader::new()
            .read_from_container(&mut Cursor::new(&stored))
            .is_err(),
        "the stored file has no EXIF"
    );
}

#[test]
fn cli_exits_non_zero_with_a_message_and_writes_nothing_on_bad_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = jpeg_with_exif(&quadrants(640, 480), None);
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        ("zero bytes", "empty.jpg", Vec::new(), "empty_file"),
        (
            "truncated",
            "cut.jpg",
            good[..good.len() / 3].to_vec(),
            "truncated",
        ),
        (
            "text named .jpg",
            "notes.jpg",
            b"hello\n".to_vec(),
            "not_an_image",
        ),
        (
            "dimension bomb",
            "bomb.jpg",
            jpeg_claiming(60000, 60000),
            "dimensions_too_large",
        ),
    ];
    for (name, file, bytes, want) in cases {
        let input = dir.path().join(file);
        std::fs::write(&input, bytes).expect("write input");
        let out_dir = dir.path().join(format!("out-{file}"));
        std::fs::create_dir(&out_dir).expect("out dir");
        let out = cli()
            .arg("prepare")
            .arg(&input)
            .arg(&out_dir)
            .output()
            .expect("run heatcrew-media");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{name}: bad input exits 2: {stderr}"
        );
        assert!(
            stderr.contains(want),
            "{name}: stderr names the code {want}: {stderr}"
        );
        assert!(
            stderr.lines().count() >= 2 && stderr.len() > 40,
            "{name}: stderr carries the message in English and Chinese: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{name}: no JSON line on failure");
        assert!(
            files_in(&out_dir).is_empty(),
            "{name}: nothing is written, not even a temp file: {:?}",
            files_in(&out_dir)
        );
    }

    let missing_out = dir.path().join("never-created");
    let out = cli()
        .arg("prepare")
        .arg(dir.path().join("empty.jpg"))
        .arg(&missing_out)
        .output()
        .expect("run heatcrew-media");
    assert!(!out.status.success(), "bad input fails");
    assert!(
        !missing_out.exists(),
        "the output folder is not even created when the input is bad"
    );

    let out = cli()
        .arg("prepare")
        .arg(dir.path().join("no-such-file.jpg"))
        .arg(&missing_out)
        .output()
        .expect("run heatcrew-media");
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unreadable input is an I/O error (exit 1)"
    );
}

// ---------------------------------------------------------------------------------------------
// Fuzzing: mutated and truncated real files through both entry points

fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(make_seeds)
}

fn make_seeds() -> Vec<Vec<u8>> {
    let exif = Exif {
        orientation: 6,
        taken: Some("2026:11:27 09:30:15"),
        offset: Some("+08:00"),
        gps: Some(BEIJING),
    };
    let mut progressive = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut progressive, 85);
    enc.set_progressive(true);
    let small = quadrants(48, 40);
    enc.encode(small.as_raw(), 48, 40, jpeg_encoder::ColorType::Rgb)
        .expect("progressive seed encodes");
    let mut sig = RgbaImage::from_pixel(120, 60, Rgba([0, 0, 0, 0]));
    for x in 10..110 {
        sig.put_pixel(x, 30 + (x % 7), Rgba([0, 0, 0, 255]));
    }
    let mut webp = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
        .write_image(sig.as_raw(), 120, 60, image::ExtendedColorType::Rgba8)
        .expect("webp seed encodes");
    vec![
        jpeg_with_exif(&quadrants(64, 48), Some(&exif)),
        progressive,
        png_bytes(&DynamicImage::ImageRgba8(sig)),
        png_bytes(&DynamicImage::ImageRgb8(quadrants(40, 30))),
        webp,
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(Vec<(usize, u8)>),
    Insert(usize, Vec<u8>),
    Overwrite(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        prop::collection::vec((any::<usize>(), any::<u8>()), 1..16).prop_map(Mutation::Flip),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(at, b)| Mutation::Insert(at, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..32))
            .prop_map(|(at, b)| Mutation::Overwrite(at, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let n = bytes.len().max(1);
    match m {
        Mutation::Truncate(at) => bytes.truncate(at % n),
        Mutation::Flip(flips) => {
            for (at, v) in flips {
                let i = at % n;
                if let Some(b) = bytes.get_mut(i) {
                    *b ^= v | 1;
                }
            }
        }
        Mutation::Insert(at, ins) => {
            let i = at % n;
            bytes.splice(i..i, ins.iter().copied());
        }
        Mutation::Overwrite(at, data) => {
            let i = at % n;
            for (k, v) in data.iter().enumerate() {
                if let Some(b) = bytes.get_mut(i + k) {
                    *b = *v;
                }
            }
        }
    }
    bytes
}

/// Inputs tried so far in this process, printed every 1000 (`--nocapture` shows them).
static FUZZ_TRIED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Cases per run: 2000 in `cargo test`; set HEATCREW_FUZZ_CASES for a longer run.
fn fuzz_cases() -> u32 {
    std::env::var("HEATCREW_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: fuzz_cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_files_never_panic_and_never_yield_an_oversized_photo(
        seed in 0usize..5,
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let bytes = mutations.iter().fold(seeds()[seed].clone(), apply);
        let tried = FUZZ_TRIED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if tried.is_multiple_of(1000) {
            eprintln!("fuzz: {tried} mutated inputs tried");
        }
        match prepare_photo(&bytes, &opts()) {
            Ok(p) => {
                prop_assert!(p.width.max(p.height) <= 1600, "long side within the cap");
                prop_assert!(p.jpeg.starts_with(&[0xFF, 0xD8]), "output is a JPEG");
                prop_assert_eq!(p.sha256, heatcrew_media::ContentHash::of(&p.jpeg), "hash matches");
            }
            Err(e) => prop_assert_ne!(
                e.code(), "decoder_panicked",
                "a decoder panicked on a mutated file (contained, but a bug to report)"
            ),
        }
        if let Err(e) = prepare_signature(&bytes, &SignatureOptions::default()) {
            prop_assert_ne!(e.code(), "decoder_panicked", "signature decoder panicked");
        }
    }
}
