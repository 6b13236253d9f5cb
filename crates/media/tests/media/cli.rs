//! The `heatcrew-media` CLI: what it writes, and that it writes nothing and exits non-zero on bad input.

use super::*;
use crate::bad_input::jpeg_claiming;

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
