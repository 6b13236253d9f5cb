//! Signatures: trimmed, stored as compact grey PNG, light ink on dark canvases, empty pads refused.

use super::*;

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
