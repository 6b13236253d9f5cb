//! The printable PDFs (上门服务记录单, 整改通知书) over real HTTP: read in Chinese (pdftotext),
//! the same bytes each time, their SHA-256 kept with the job and in the audit log of each
//! download; staff only.

use super::*;

fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).expect("write");
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils)");
    assert!(out.status.success(), "pdftotext reads the PDF");
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .split_whitespace()
        .collect()
}

/// `HEATCREW_SCREENSHOTS=DIR`: the first page as a picture for the README (`<name>-1.png`).
fn draw_first_page(pdf: &[u8], name: &str) {
    if let Some(dir) = std::env::var_os("HEATCREW_SCREENSHOTS") {
        let page = std::path::Path::new(&dir).join(name);
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("doc.pdf");
        std::fs::write(&path, pdf).expect("write the PDF");
        let made = Command::new("pdftoppm")
            .args(["-png", "-r", "80", "-f", "1", "-l", "1"])
            .arg(&path)
            .arg(&page)
            .status()
            .is_ok_and(|s| s.success());
        assert!(made, "pdftoppm drew the page");
    }
}

async fn pdf(o: &TestOffice, token: &str, path: &str) -> (Vec<u8>, String) {
    let resp = o
        .http
        .get(o.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("pdf");
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    let sha = resp.headers()["x-heatcrew-sha256"]
        .to_str()
        .expect("a digest header")
        .to_owned();
    (resp.bytes().await.expect("body").to_vec(), sha)
}

#[tokio::test]
async fn the_pdfs_read_in_chinese_are_the_same_bytes_each_time_and_their_digest_is_kept() {
    let o = TestOffice::start().await;
    let admin = o.staff_token("admin").await;
    let put = o
        .http
        .put(o.url("/api/v1/company"))
        .bearer_auth(&admin)
        .json(&json!({"name": "幸福热力有限公司", "hotline": "0451-8888 6666"}))
        .send()
        .await
        .expect("company");
    assert_eq!(put.status(), StatusCode::OK);
    let staff = o.staff_token("dispatch").await;
    let jobs = three_visits(&o, &staff).await;

    let path = format!("/api/v1/jobs/{}/service-record.pdf", jobs[0]);
    let (a, sha_a) = pdf(&o, &staff, &path).await;
    let (b, sha_b) = pdf(&o, &staff, &path).await;
    assert!(a.starts_with(b"%PDF-"), "a PDF");
    assert!(a == b, "byte-for-byte the same for the same records");
    assert_eq!(
        sha_a,
        heatcrew_protocol::Digest::of(&a).to_hex(),
        "the header is the digest"
    );
    assert_eq!(sha_a, sha_b);
    draw_first_page(&a, "document-service-record");
    let text = pdftotext(&a);
    for want in [
        "上门服务记录单",
        "幸福热力有限公司",
        "王秀英",
        "张伟",
        "W017",
        "已解决",
        "下次再来",
    ] {
        assert!(
            text.contains(want),
            "the service record shows {want}: {text}"
        );
    }

    // A heat-theft inspection with a finding and a notice.
    let inspection = job_id(
        &o.create_job(
            &staff,
            json!({"kind": "heat_theft_inspection", "fault": "疑似私接", "assignee": o.user_id("tech_b"),
                   "customer": {"name": "孙立", "phone": "13600003333",
                                "address": "和平路8号2单元302", "account_no": "HR-30001"}}),
        )
        .await,
    );
    let mut dev = o.device("tech_b").await;
    let deadline = chrono::Utc::now().date_naive() + chrono::Days::new(18);
    let events = vec![
        dev.record(
            inspection,
            &EventBody::FindingRecorded {
                finding_id: Uuid::now_v7(),
                category: FindingCategory::UnauthorizedConnection,
                description: "客厅暖气私接旁通管".into(),
                states: Default::default(),
                photos: vec![],
            },
        ),
        dev.record(
            inspection,
            &EventBody::NoticeIssued {
                number: "ZG-D0001-0007".into(),
                deadline,
                requirements: "拆除旁通管，恢复原状".into(),
                follow_up_on: deadline.succ_opt(),
            },
        ),
    ];
    o.push_accepted(&dev, &events).await;
    let notice = format!("/api/v1/jobs/{inspection}/notices/ZG-D0001-0007/pdf");
    let (n1, _) = pdf(&o, &staff, &notice).await;
    let (n2, _) = pdf(&o, &staff, &notice).await;
    assert!(n1 == n2, "the notice is the same bytes each time");
    draw_first_page(&n1, "document-notice");
    let text = pdftotext(&n1);
    let deadline_text = deadline.to_string();
    for want in [
        "整改通知书",
        "ZG-D0001-0007",
        "孙立",
        "和平路8号2单元302",
        "私接/旁通管",
        "客厅暖气私接旁通管",
        "拆除旁通管，恢复原状",
        deadline_text.as_str(),
        "李娜",
        "W018",
        "幸福热力有限公司",
        "0451-88886666",
    ] {
        assert!(text.contains(want), "the notice shows {want}: {text}");
    }
    let (status, _) = o
        .get_json(
            &format!("/api/v1/jobs/{inspection}/notices/ZG-NOPE/pdf"),
            &staff,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no such notice");

    let (status, kept) = o
        .get_json(&format!("/api/v1/jobs/{}/documents", jobs[0]), &staff)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        kept.as_array().map(Vec::len),
        Some(1),
        "one digest kept for the same document made twice: {kept}"
    );
    assert_eq!(kept[0]["sha256"], sha_a);
    assert_eq!(kept[0]["document"], "service_record");

    let tech = o.device("tech_a").await;
    let (status, _) = o.get_json(&path, tech.token()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "staff only");

    // Each PDF that left the office is in the audit log: who took it, and its digest.
    let (status, page) = o
        .get_json("/api/v1/console/audit?kind=document_download", &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let entries = page["entries"].as_array().expect("entries");
    let records: Vec<&Value> = entries
        .iter()
        .filter(|e| e["detail"]["document"] == "service_record")
        .collect();
    assert_eq!(records.len(), 2, "both downloads: {entries:?}");
    for e in &records {
        assert_eq!(e["username"], "dispatch");
        assert_eq!(e["subject"], jobs[0].to_string());
        assert_eq!(e["detail"]["sha256"], sha_a, "the digest of what was sent");
    }
    let notices = entries
        .iter()
        .filter(|e| e["detail"]["document"] == "notice")
        .inspect(|e| {
            assert_eq!(e["detail"]["notice"], "ZG-D0001-0007");
            assert_eq!(e["subject"], inspection.to_string());
        })
        .count();
    assert_eq!(
        notices, 2,
        "the unknown notice (404) and the refused caller are not: {entries:?}"
    );
    assert_eq!(entries.len(), 4, "{entries:?}");
}

/// 供热工程验收中……留下书面整改意见 (现场服务 8): the notice left at an acceptance inspection names the
/// works, the site and the acceptance result with its remarks and defects, and is signed for by the
/// contractor, not a customer.
#[tokio::test]
async fn an_acceptance_notice_prints_the_works_the_result_and_the_contractors_line() {
    use heatcrew_protocol::{Position, Severity, StepEvidence};
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let job = job_id(
        &o.create_job(
            &staff,
            json!({"kind": "acceptance_inspection", "fault": "和平路换热站改造工程",
                   "site": "和平路换热站", "assignee": o.user_id("tech_b")}),
        )
        .await,
    );
    let mut evidence = StepEvidence::default();
    evidence.states.insert("result".into(), "failed".into());
    evidence
        .text
        .insert("remarks".into(), "二次网回水管保温未做".into());
    let mut dev = o.device("tech_b").await;
    let deadline = chrono::Utc::now().date_naive() + chrono::Days::new(10);
    let events = vec![
        dev.record(
            job,
            &EventBody::StepCompleted {
                step: "inspect".into(),
                evidence,
            },
        ),
        dev.record(
            job,
            &EventBody::DefectReported {
                defect_id: Uuid::now_v7(),
                checkpoint: None,
                category: "insulation".into(),
                severity: Severity::Minor,
                position: Position {
                    description: "泵房东侧".into(),
                    ..Position::default()
                },
                description: "回水管保温层缺失约6米".into(),
                photos: vec![],
            },
        ),
        dev.record(
            job,
            &EventBody::NoticeIssued {
                number: "YS-D0002-0001".into(),
                deadline,
                requirements: "按设计补做回水管保温".into(),
                follow_up_on: None,
            },
        ),
    ];
    o.push_accepted(&dev, &events).await;
    let (bytes, _) = pdf(
        &o,
        &staff,
        &format!("/api/v1/jobs/{job}/notices/YS-D0002-0001/pdf"),
    )
    .await;
    draw_first_page(&bytes, "document-acceptance-notice");
    let text = pdftotext(&bytes);
    for want in [
        "整改通知书",
        "YS-D0002-0001",
        "和平路换热站改造工程",
        "和平路换热站",
        "不合格",
        "二次网回水管保温未做",
        "回水管保温层缺失约6米",
        "按设计补做回水管保温",
        "验收人员",
        "施工方签字",
        "工程不予验收",
    ] {
        assert!(
            text.contains(want),
            "the acceptance notice shows {want}: {text}"
        );
    }
    for not in ["用户签字", "检查发现"] {
        assert!(!text.contains(not), "no customer's lines: {not}: {text}");
    }
}
