//! The evidence bundle's `summary.pdf`: read back with poppler's `pdftotext` (Debian
//! `poppler-utils`), it holds the Chinese customer name, the standard phrases, the refusal with its
//! witness, the rating and the photo's hash and capture place; the font is embedded as a subset; a
//! thumbnail of the photo is drawn; the same records give the same bytes on every download; and
//! an office without its font still hands out the bundle, saying why the PDF is missing.

use super::bundle::{unzip, upload};
use super::*;
use heatcrew_protocol::{AttachmentRef, DeclineKind, Digest, Position, Witness};
use std::process::Command;

/// A real JPEG (a colour gradient), as a phone's photo pipeline would store one.
fn jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut pixels = Vec::with_capacity(usize::from(width) * usize::from(height) * 3);
    for y in 0..height {
        for x in 0..width {
            pixels.extend([(x % 256) as u8, (y % 256) as u8, 128]);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .expect("encode a JPEG");
    out
}

fn photo_ref(bytes: &[u8]) -> AttachmentRef {
    AttachmentRef {
        sha256: Digest::of(bytes),
        bytes: bytes.len() as u64,
        mime: "image/jpeg".into(),
        width: 640,
        height: 480,
        taken_at: Some("2026-03-02T02:05:00Z".parse().expect("a time")),
        gps: Some(Position {
            lat: Some(45.756_789),
            lon: Some(126.642_345),
            description: "3号楼门口".into(),
            ..Default::default()
        }),
    }
}

/// A poppler tool's output on `pdf` (the tool must be installed: `./dev` installs poppler-utils).
fn poppler(tool: &str, pdf: &[u8], extra: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("summary.pdf");
    std::fs::write(&path, pdf).expect("write the PDF");
    let out = Command::new(tool)
        .args(extra)
        .arg(&path)
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap_or_else(|e| panic!("{tool} (Debian poppler-utils, installed by ./dev): {e}"));
    assert!(
        out.status.success(),
        "{tool} reads the PDF: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

async fn bundle_entries(o: &TestOffice, staff: &str, job: Uuid) -> BTreeMap<String, Vec<u8>> {
    let resp = o
        .http
        .get(o.url(&format!("/api/v1/jobs/{job}/bundle")))
        .bearer_auth(staff)
        .send()
        .await
        .expect("bundle");
    assert_eq!(resp.status(), StatusCode::OK, "the bundle downloads");
    unzip(&resp.bytes().await.expect("body"))
}

use std::collections::BTreeMap;

#[tokio::test]
async fn the_summary_reads_in_chinese_embeds_a_font_subset_and_is_the_same_bytes_each_time() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let job = job_id(
        &o.create_job(
            &staff,
            json!({"fault": "暖气漏水", "assignee": o.user_id("tech_a"),
                   "customer": {"name": "王秀英", "phone": "13812345601",
                                "address": "幸福小区3号楼2单元501室", "account_no": "HR-20931"}}),
        )
        .await,
    );
    let photo = jpeg(640, 480);
    let mut dev = o.device("tech_a").await;
    let events = vec![
        dev.record(job, &step("appointment")),
        dev.record(job, &step("arrive")),
        dev.record(job, &step("identify")),
        dev.record(
            job,
            &EventBody::PhotoAdded {
                step: "diagnose_repair".into(),
                photo: photo_ref(&photo),
                caption: "漏水点".into(),
            },
        ),
        dev.record(
            job,
            &EventBody::SignatureDeclined {
                step: "signature".into(),
                outcome: DeclineKind::Refused,
                reason: "对维修结果有异议".into(),
                witness: Some(Witness {
                    name: "李物业".into(),
                    phone: "13800000000".into(),
                }),
            },
        ),
        dev.record(
            job,
            &EventBody::RatingGiven {
                stars: 4,
                comment: "师傅很专业".into(),
            },
        ),
    ];
    o.push_accepted(&dev, &events).await;
    upload(&o, &dev, &photo, "image/jpeg").await;

    let started = std::time::Instant::now();
    let first = bundle_entries(&o, &staff, job).await;
    let cold = started.elapsed();
    let pdf = first
        .get("summary.pdf")
        .expect("the bundle carries summary.pdf");
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    let readme = String::from_utf8(first["README.txt"].clone()).expect("text");
    assert!(
        readme.contains("summary.pdf") && readme.contains("convenience view"),
        "the README says the PDF is a convenience view: {readme}"
    );
    let sums = String::from_utf8(first["SHA256SUMS"].clone()).expect("text");
    assert!(
        sums.contains(&format!("{}  summary.pdf", Digest::of(pdf).to_hex())),
        "SHA256SUMS covers the PDF"
    );

    // Read back as a person's PDF reader would extract it (lines joined: a long phrase wraps).
    let text: String = poppler("pdftotext", pdf, &["-enc", "UTF-8"])
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for expected in [
        "王秀英",
        "幸福小区3号楼2单元501室",
        "HR-20931",
        "暖气漏水",
        // the standard phrases of the appointment and identification steps (home_repair.v1)
        "您好，我是××热力公司维修人员××，这是我的工作证。",
        "您报修的暖气问题",
        "检查与维修/Diagnoseandrepair·漏水点",
        "张伟(工号/badgeW017)",
        "对维修结果有异议",
        "李物业",
        "师傅很专业",
        "★★★★☆",
        "签名与哈希链已核验",
        "3号楼门口",
        "45.756789,126.642345",
        "2026-03-0210:05:00",
        &Digest::of(&photo).to_hex(),
        "python3verify.pyexport--strictevidence.jsonl",
    ] {
        assert!(
            text.contains(expected),
            "the PDF's text has {expected:?}:\n{text}"
        );
    }
    let fonts = poppler("pdffonts", pdf, &[]);
    let font_line = fonts
        .lines()
        .find(|l| l.contains("NotoSansCJK"))
        .unwrap_or_else(|| panic!("Noto Sans CJK is the font: {fonts}"));
    assert!(
        font_line
            .split_whitespace()
            .next()
            .is_some_and(|n| n.contains('+')),
        "embedded as a subset (a tagged name): {font_line}"
    );
    let images = poppler("pdfimages", pdf, &["-list"]);
    assert_eq!(
        images.lines().skip(2).count(),
        1,
        "the photo's thumbnail is drawn: {images}"
    );
    eprintln!("summary.pdf: {} bytes", pdf.len());
    assert!(
        pdf.len() < 400_000,
        "a subset, not the 19 MB font: {} bytes",
        pdf.len()
    );

    // `HEATCREW_SCREENSHOTS=DIR`: its pages as pictures for the README (`…-1.png`, `…-2.png`).
    if let Some(dir) = std::env::var_os("HEATCREW_SCREENSHOTS") {
        let page = std::path::Path::new(&dir).join("console-bundle-summary");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("summary.pdf");
        std::fs::write(&path, pdf).expect("write the PDF");
        let made = Command::new("pdftoppm")
            .args(["-png", "-r", "90"])
            .arg(&path)
            .arg(&page)
            .status()
            .is_ok_and(|s| s.success());
        assert!(made, "pdftoppm drew the pages");
    }

    // The same records a second time (another export time, another tree head): the same PDF.
    let started = std::time::Instant::now();
    let second = bundle_entries(&o, &staff, job).await;
    eprintln!(
        "bundle with its PDF: {} ms the first time (font read), {} ms the second",
        cold.as_millis(),
        started.elapsed().as_millis()
    );
    assert!(
        second["summary.pdf"] == *pdf,
        "the PDF is byte-for-byte reproducible"
    );
}

#[tokio::test]
async fn without_its_font_the_bundle_still_downloads_and_its_readme_says_why() {
    let o = TestOffice(
        heatcrew_testkit::TestOffice::start_with(heatcrew_testkit::Seed::TestAccounts, |c| {
            c.pdf_font = Some("/nonexistent/NotoSansCJK-Regular.ttc".into());
        })
        .await,
    );
    let staff = o.staff_token("dispatch").await;
    let job = job_id(
        &o.create_job(
            &staff,
            json!({"fault": "暖气不热", "customer": {"name": "王秀英", "phone": "13812345601", "address": "幸福小区"}}),
        )
        .await,
    );
    let entries = bundle_entries(&o, &staff, job).await;
    assert!(
        !entries.contains_key("summary.pdf"),
        "no PDF without a font"
    );
    assert!(
        entries.contains_key("evidence.jsonl"),
        "the evidence is there"
    );
    let readme = String::from_utf8(entries["README.txt"].clone()).expect("text");
    assert!(
        readme.contains("no PDF summary in this bundle")
            && readme.contains("/nonexistent/NotoSansCJK-Regular.ttc"),
        "the README names the missing font: {readme}"
    );
}
