//! Coverage-guided fuzzing of both entry points. libfuzzer-sys aborts on any panic (its hook runs
//! before the library's catch_unwind), so a decoder panic is reported as a crash here even though
//! the app would contain it.
#![no_main]

use heatcrew_media::{PhotoOptions, SignatureOptions, prepare_photo, prepare_signature};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = PhotoOptions::default();
    if let Ok(photo) = prepare_photo(data, &opts) {
        assert!(photo.width.max(photo.height) <= opts.max_long_side);
        assert!(photo.thumb_width.max(photo.thumb_height) <= opts.thumb_long_side);
        assert!(photo.jpeg.starts_with(&[0xFF, 0xD8]));
    }
    if let Ok(sig) = prepare_signature(data, &SignatureOptions::default()) {
        assert!(sig.width <= sig.source_width && sig.height <= sig.source_height);
    }
});
