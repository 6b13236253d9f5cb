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

use heatcrew_core::files::SEALED_MARKER;

/// Every regular file under `dir`, recursively (not the folder's "all sealed" marker).
fn every_file(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if entry.file_name() != SEALED_MARKER {
                found.push(path);
            }
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn photos_signatures_thumbnails_and_captures_are_sealed_at_rest() {
    let mut d = device();
    let (png_bytes, _) = demo::generated_png("kitchen", 3);
    let photo = d.store.ingest_photo(&png_bytes).expect("photo");
    let signature = demo::generated_signature(1);
    let signed = d.store.ingest_signature(&signature).expect("signature");
    // A capture queued for the background worker and not yet processed.
    let job = visit_until(&mut d.store, "diagnose_repair");
    d.store
        .take_photo(job.id, "diagnose_repair", &png_bytes, None)
        .expect("queued");

    let files = every_file(d.store.files().dir());
    assert!(
        files.len() >= 4,
        "photo, its thumbnail, signature, capture: {files:?}"
    );
    // What the files hold once opened: none of it may be found in them as stored. (Runs of 32
    // bytes, and signatures of 4 bytes or more: a 3-byte JPEG marker turns up in ciphertext by
    // chance about once in every 16 MB, which made this test fail now and then.)
    let plain = [
        d.store.files().read(&photo.sha256).expect("photo"),
        d.store.thumbnail(&photo.sha256).expect("thumbnail"),
        d.store.files().read(&signed.sha256).expect("signature"),
        png_bytes.clone(),
    ];
    for path in &files {
        let raw = std::fs::read(path).expect("read");
        assert!(raw.starts_with(b"HCF1"), "{} is sealed", path.display());
        for (what, marker) in [
            ("PNG", &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..]),
            ("JFIF", &b"JFIF"[..]),
        ] {
            assert!(!contains(&raw, marker), "no {what} in {}", path.display());
        }
        for p in &plain {
            let mid = p.len() / 2;
            for run in [&p[..32], &p[mid..mid + 32]] {
                assert!(
                    !contains(&raw, run),
                    "no run of a file's plain bytes in {}",
                    path.display()
                );
            }
        }
    }
    // Read back through the store: the bytes the event's digest names.
    let back = d
        .store
        .files()
        .read(&photo.sha256)
        .expect("photo reads back");
    assert_eq!(Digest::of(&back), photo.sha256);
    let back = d
        .store
        .files()
        .read(&signed.sha256)
        .expect("signature reads back");
    assert_eq!(Digest::of(&back), signed.sha256);
    assert!(back.starts_with(b"\x89PNG"), "a PNG again once opened");
    assert!(
        !d.store
            .thumbnail(&photo.sha256)
            .expect("thumbnail")
            .is_empty()
    );
}

#[test]
fn a_sealed_file_changed_moved_or_from_another_phone_does_not_open() {
    let d = device();
    let a = photo(&d.store);
    let b = photo(&d.store);
    let files = d.store.files();
    let (path_a, path_b) = (files.path(&a.sha256), files.path(&b.sha256));
    let original_b = std::fs::read(&path_b).expect("read");

    // One bit flipped in the middle of the ciphertext.
    let mut flipped = original_b.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x01;
    std::fs::write(&path_b, &flipped).expect("write");
    let err = files.read(&b.sha256).expect_err("a changed file");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("does not open"), "{err}");

    // A's sealed file put under B's name: it opens as A only.
    std::fs::copy(&path_a, &path_b).expect("copy");
    files
        .read(&b.sha256)
        .expect_err("a file moved to another name");
    files.read(&a.sha256).expect("A itself still opens");

    // The same file under the same name on another phone (another database key).
    std::fs::write(&path_b, &original_b).expect("restore");
    files.read(&b.sha256).expect("B restored opens");
    let other = device();
    let theirs = other.store.files().path(&b.sha256);
    std::fs::copy(&path_b, &theirs).expect("copy to the other phone");
    let err = other
        .store
        .files()
        .read(&b.sha256)
        .expect_err("another phone's key");
    assert!(err.to_string().contains("does not open"), "{err}");

    // A plain file where a sealed one belongs (written by something else) is refused too.
    std::fs::write(&path_b, b"plain bytes").expect("write");
    let err = files.read(&b.sha256).expect_err("a plain file");
    assert!(err.to_string().contains("not sealed"), "{err}");
}

#[test]
fn files_written_before_sealing_are_sealed_when_the_store_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("device.db");
    let (sha, bytes, thumb) = {
        let store = Store::open(&db).expect("open");
        let (png_bytes, _) = demo::generated_png("hall", 2);
        let p = store.ingest_photo(&png_bytes).expect("photo");
        let bytes = store.files().read(&p.sha256).expect("read");
        let thumb = store.thumbnail(&p.sha256).expect("thumbnail");
        (p.sha256, bytes, thumb)
    };
    // As an older build left them: the same files, plain, and no marker that all are sealed.
    let files_dir = dir.path().join("device.db.files");
    let marker = files_dir.join(SEALED_MARKER);
    assert!(marker.is_file(), "a new store's folder is marked sealed");
    std::fs::remove_file(&marker).expect("remove the marker");
    let photo_path = files_dir.join(sha.to_hex());
    let thumb_path = files_dir.join("thumbs").join(sha.to_hex());
    std::fs::write(&photo_path, &bytes).expect("plain photo");
    std::fs::write(&thumb_path, &thumb).expect("plain thumbnail");

    let store = Store::open(&db).expect("reopen seals them");
    for path in [&photo_path, &thumb_path] {
        assert!(
            std::fs::read(path).expect("read").starts_with(b"HCF1"),
            "{} sealed in place",
            path.display()
        );
    }
    assert_eq!(store.files().read(&sha).expect("read"), bytes, "same bytes");
    assert_eq!(store.thumbnail(&sha).expect("thumbnail"), thumb);
    let leftovers: Vec<_> = every_file(&files_dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.') && n != SEALED_MARKER)
        })
        .collect();
    assert!(leftovers.is_empty(), "no temporary files: {leftovers:?}");
    assert!(marker.is_file(), "marked again once sealed");
    drop(store);
    // Marked: a plain file appearing later is not taken in; it is refused when read.
    std::fs::write(&thumb_path, &thumb).expect("plain thumbnail again");
    let store = Store::open(&db).expect("a second open does not walk the folder");
    assert!(
        store.files().read_thumbnail(&sha).is_err(),
        "a plain file is refused, not shown"
    );
    std::fs::remove_file(&thumb_path).expect("remove");
    drop(store);
    assert_eq!(
        Store::open(&db)
            .expect("open")
            .files()
            .read(&sha)
            .expect("read"),
        bytes
    );
}
