//! Fuzzing: mutated and truncated real files through both entry points.

use super::*;

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
