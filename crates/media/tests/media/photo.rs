//! The photo pipeline: orientation, metadata stripped, downscaling, hashes, PNG and WebP.

use super::*;

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
