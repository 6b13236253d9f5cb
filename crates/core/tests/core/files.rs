//! Photos and signatures through the media pipeline into the file store; orphan files.

use super::*;

#[test]
fn photos_go_through_the_pipeline_and_bad_files_store_nothing() {
    let d = device();
    let (png_bytes, _) = demo::generated_png("before", 1);
    let photo = d
        .store
        .ingest_photo(&png_bytes)
        .expect("a real image is accepted");
    assert_eq!(photo.mime, "image/jpeg", "photos are stored as JPEG");
    assert!(
        d.store.files().contains(&photo.sha256),
        "the file is stored under its hash"
    );
    assert_eq!(
        Digest::of(&d.store.files().read(&photo.sha256).expect("read")),
        photo.sha256,
        "the reference is the SHA-256 of the stored bytes"
    );
    assert!(
        !d.store.thumbnail(&photo.sha256).expect("thumb").is_empty(),
        "a thumbnail is there for lists"
    );
    let files_before = std::fs::read_dir(d.store.files().dir())
        .expect("dir")
        .count();
    for bad in [
        &b""[..],
        b"not an image at all",
        &png_bytes[..png_bytes.len() / 2],
    ] {
        let err = d.store.ingest_photo(bad).expect_err("bad input");
        assert!(
            ["empty_file", "not_an_image", "truncated", "corrupt"].contains(&err.code().as_str()),
            "a bad file gets a clear code, got {}",
            err.code()
        );
        assert!(
            !err.message(Lang::Zh).is_empty(),
            "and a message in Chinese"
        );
    }
    assert_eq!(
        std::fs::read_dir(d.store.files().dir())
            .expect("dir")
            .count(),
        files_before,
        "bad files leave nothing behind"
    );
    assert!(
        d.store
            .ingest_signature(&demo::generated_signature(0))
            .is_ok(),
        "a drawn signature is accepted"
    );
}

#[test]
fn orphan_files_are_cleaned_up_but_referenced_ones_stay() {
    let mut d = device();
    visit_until(&mut d.store, "clean_up");
    // A crash between storing a file and recording its event leaves an orphan.
    let orphan = d
        .store
        .files()
        .put(b"photo whose event never committed")
        .expect("put");
    let referenced: Vec<_> = d
        .store
        .events()
        .expect("events")
        .iter()
        .flat_map(|e| {
            EventBody::from_parts(&e.unsigned.kind, &e.unsigned.payload)
                .expect("body")
                .attachments()
                .into_iter()
                .map(|a| a.sha256)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!referenced.is_empty(), "the visit has photos");
    assert_eq!(
        d.store
            .remove_orphan_files(std::time::Duration::from_secs(3600))
            .expect("clean"),
        0,
        "a fresh file may still be a form being filled in: kept for a while"
    );
    assert!(
        d.store
            .remove_orphan_files(std::time::Duration::ZERO)
            .expect("clean")
            >= 1,
        "old orphans are removed"
    );
    assert!(!d.store.files().contains(&orphan), "the orphan is gone");
    for sha in referenced {
        assert!(
            d.store.files().contains(&sha),
            "files that events refer to are never removed"
        );
    }
}
