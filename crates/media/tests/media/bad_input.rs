//! Bad input: truncated, lying and hostile files get typed errors, never panics.

use super::*;

/// A valid JPEG whose frame header (SOF) is patched to claim `w`×`h`.
pub(super) fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
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
