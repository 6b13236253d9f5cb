//! Feedback records (信息反馈) and the documents over real HTTP: a closed visit gets its record,
//! searchable and paged; the CSV opens in Chinese Excel (BOM), round-trips Chinese, commas, quotes
//! and newlines, and defuses formulas; the monthly workbook reads back with calamine with the
//! expected figures; staff only; every download in the audit log; a record lost is written again
//! at the next start. The PDFs: `documents/pdfs.rs`.

use super::*;
use calamine::{Data, Reader, Xlsx};
use chrono::FixedOffset;
use heatcrew_protocol::{FindingCategory, Resolution};
use std::process::Command;

mod kpi_sheets;
mod pdfs;
use kpi_sheets::{cell, kpi_sheets_agree_with_the_dashboard, this_month};

const TRICKY: &str = "他说：\"好,很好\"\n下次再来";
const FORMULA: &str = "=HYPERLINK(\"http://evil.example\",\"点我\")";

fn closed(resolution: Resolution) -> EventBody {
    EventBody::JobClosed {
        resolution,
        summary: "更换阀门，试水正常".into(),
    }
}

fn rating(stars: u8, comment: &str) -> EventBody {
    EventBody::RatingGiven {
        stars,
        comment: comment.into(),
    }
}

/// Three repair visits closed by `tech_a` (two) and `tech_b` (one): resolved ★5 with a tricky
/// comment, follow-up ★2 with a formula for a comment, resolved without a rating.
async fn three_visits(o: &TestOffice, staff: &str) -> [Uuid; 3] {
    let customers = [
        ("王秀英", "138 1234-5601", "HR-20931"),
        ("赵 强", "13900001111", "HR-20932"),
        ("钱, 多多", "13700002222", "HR-20933"),
    ];
    let mut ids = [Uuid::nil(); 3];
    for (i, (name, phone, account)) in customers.iter().enumerate() {
        let tech = if i == 2 { "tech_b" } else { "tech_a" };
        let job = job_id(
            &o.create_job(
                staff,
                json!({"fault": "暖气不热", "assignee": o.user_id(tech),
                       "customer": {"name": name, "phone": phone,
                                    "address": format!("幸福小区{}号楼", i + 1), "account_no": account}}),
            )
            .await,
        );
        let mut dev = o.device(tech).await;
        let mut events = vec![dev.record(job, &step("arrive"))];
        match i {
            0 => events.push(dev.record(job, &rating(5, TRICKY))),
            1 => events.push(dev.record(job, &rating(2, FORMULA))),
            _ => {}
        }
        let resolution = if i == 1 {
            Resolution::FollowUpNeeded
        } else {
            Resolution::Resolved
        };
        events.push(dev.record(job, &closed(resolution)));
        o.push_accepted(&dev, &events).await;
        ids[i] = job;
    }
    ids
}

async fn page(o: &TestOffice, token: &str, query: &str) -> (StatusCode, Value) {
    o.get_json(&format!("/api/v1/console/feedback?{query}"), token)
        .await
}

fn ids_of(page: &Value) -> Vec<String> {
    page["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["customer_name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn a_closed_visit_gets_its_feedback_record_searchable_by_every_filter_and_paged() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let jobs = three_visits(&o, &staff).await;

    let (status, all) = page(&o, &staff, "").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["total"], 3, "one record per closed visit: {all}");
    let first = &all["records"][0];
    assert_eq!(first["job_id"], jobs[2].to_string(), "newest closing first");
    assert_eq!(
        (first["staff_name"].as_str(), first["staff_badge"].as_str()),
        (Some("李娜"), Some("W018")),
        "who served, by name and badge"
    );
    let wang = all["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["customer_name"] == "王秀英")
        .expect("王秀英's visit");
    assert_eq!(wang["rating"], 5);
    assert_eq!(
        wang["comment"], TRICKY,
        "the comment as the customer typed it"
    );
    assert_eq!(wang["customer_phone"], "13812345601", "the phone as digits");
    assert!(
        wang["arrived_at"].is_string() && wang["resolved_at"].is_string(),
        "arrival and resolution times: {wang}"
    );
    assert!(wang["reported_at"].is_string(), "the report time");

    let cases = [
        ("customer=王秀", vec!["王秀英"]),
        ("customer=138%201234", vec!["王秀英"]),
        ("customer=HR-2093", vec!["钱, 多多", "赵 强", "王秀英"]),
        ("customer=HR-20932", vec!["赵 强"]),
        ("customer=%25", vec![]),
        ("result=follow_up_needed", vec!["赵 强"]),
        ("rating_min=4", vec!["王秀英"]),
        ("rating_max=3", vec!["赵 强"]),
        (&format!("staff={}", o.user_id("tech_b")), vec!["钱, 多多"]),
        ("from=2000-01-01T00:00:00Z&to=2000-02-01T00:00:00Z", vec![]),
    ];
    for (query, want) in cases {
        let (status, got) = page(&o, &staff, query).await;
        assert_eq!(status, StatusCode::OK, "{query}: {got}");
        assert_eq!(ids_of(&got), want, "{query} finds exactly these");
    }

    // Paging: two, then the rest; the cursor carries on exactly after the last one.
    let (_, p1) = page(&o, &staff, "limit=2").await;
    assert_eq!(p1["records"].as_array().map(Vec::len), Some(2));
    let next = p1["next"].as_str().expect("a next page").to_owned();
    let (_, p2) = page(&o, &staff, &format!("limit=2&after={next}")).await;
    assert_eq!(p2["records"].as_array().map(Vec::len), Some(1));
    assert!(p2["next"].is_null(), "the last page has no next");
    let mut seen = ids_of(&p1);
    seen.extend(ids_of(&p2));
    assert_eq!(seen, ids_of(&all), "the pages together are the list");

    for bad in [
        "result=done",
        "rating_min=0",
        "rating_max=6",
        "after=nonsense",
    ] {
        let (status, body) = page(&o, &staff, bad).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad} is a clear error: {body}"
        );
        assert_eq!(body["code"], "invalid_value", "{bad}");
    }
    let tech = o.device("tech_a").await;
    let (status, _) = page(&o, tech.token(), "").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a technician sees no one's feedback list"
    );
}

/// A minimal RFC 4180 reader: what Excel does with the bytes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

#[tokio::test]
async fn the_csv_opens_in_chinese_excel_round_trips_tricky_text_and_defuses_formulas() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    three_visits(&o, &staff).await;
    let resp = o
        .http
        .get(o.url("/api/v1/console/feedback.csv"))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("csv");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .is_ok_and(|v| v.starts_with("text/csv")),
        "served as CSV"
    );
    let bytes = resp.bytes().await.expect("body");
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "a UTF-8 BOM first, or Chinese Excel reads GBK mojibake"
    );
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    let rows = parse_csv(text);
    assert_eq!(rows.len(), 4, "a heading and three records: {rows:?}");
    assert!(
        rows[0][0].contains("工单号"),
        "Chinese headings: {:?}",
        rows[0]
    );
    let col = |title: &str| {
        rows[0]
            .iter()
            .position(|h| h.contains(title))
            .unwrap_or_else(|| panic!("a column {title}"))
    };
    let (name, comment, rating) = (col("客户 Customer"), col("客户评价"), col("满意度"));
    let row = |who: &str| {
        rows.iter()
            .find(|r| r[name] == who)
            .unwrap_or_else(|| panic!("{who}'s row in {rows:?}"))
    };
    assert_eq!(
        row("王秀英")[comment],
        TRICKY,
        "quotes, comma and newline round-trip"
    );
    assert_eq!(
        row("钱, 多多")[name],
        "钱, 多多",
        "a comma in a name stays one field"
    );
    assert_eq!(row("王秀英")[rating], "5");
    assert_eq!(
        row("赵 强")[comment],
        format!("'{FORMULA}"),
        "a formula is written as text behind a '"
    );
    for r in &rows {
        for f in r {
            assert!(
                !(f.starts_with(['=', '+', '@'])
                    || (f.starts_with('-') && f.parse::<f64>().is_err())),
                "no field starts a formula: {f:?}"
            );
        }
    }
    let filtered = o
        .http
        .get(o.url("/api/v1/console/feedback.csv?rating_max=3"))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("csv")
        .bytes()
        .await
        .expect("body");
    assert_eq!(
        parse_csv(std::str::from_utf8(&filtered[3..]).expect("UTF-8")).len(),
        2,
        "the CSV takes the list's filters"
    );
    // As a browser asks for it: compressed, with a search in Chinese.
    let gz = o
        .http
        .get(o.url("/api/v1/console/feedback.csv?customer=%E7%8E%8B%E7%A7%80"))
        .bearer_auth(&staff)
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .expect("csv");
    assert_eq!(gz.status(), StatusCode::OK);
    let zipped = gz
        .bytes()
        .await
        .expect("the compressed stream ends cleanly");
    assert!(!zipped.is_empty());
    let bad = o
        .http
        .get(o.url("/api/v1/console/feedback.csv?result=x"))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("csv");
    assert_eq!(
        bad.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a bad filter is refused before the download starts"
    );
    let tech = o.device("tech_a").await;
    let denied = o
        .http
        .get(o.url("/api/v1/console/feedback.csv"))
        .bearer_auth(tech.token())
        .send()
        .await
        .expect("csv");
    assert_eq!(denied.status(), StatusCode::FORBIDDEN, "staff only");

    // Who took which customers' feedback out, with what they searched for; refused requests
    // took nothing.
    let admin = o.staff_token("admin").await;
    let (_, page) = o
        .get_json("/api/v1/console/audit?kind=document_download", &admin)
        .await;
    let entries = page["entries"].as_array().expect("entries");
    let filters: Vec<&Value> = entries
        .iter()
        .inspect(|e| assert_eq!(e["detail"]["document"], "feedback_csv"))
        .map(|e| &e["detail"]["filters"])
        .collect();
    assert_eq!(filters.len(), 3, "{entries:?}");
    assert!(filters.contains(&&json!({})), "{filters:?}");
    assert!(
        filters.contains(&&json!({"customer": "王秀"})),
        "{filters:?}"
    );
    assert!(filters.contains(&&json!({"rating_max": 3})), "{filters:?}");
}

#[tokio::test]
async fn the_monthly_workbook_reads_back_with_its_figures_and_no_formula() {
    let o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    three_visits(&o, &staff).await;
    // A fourth job, cancelled: counted as created, left out of the closure rate.
    let cancelled = job_id(
        &o.create_job(
            &staff,
            json!({"fault": "误报", "customer": {"name": "孙立", "phone": "13600003333",
                   "address": "和平路8号", "account_no": ""}}),
        )
        .await,
    );
    let (status, _) = o
        .post_json(
            &format!("/api/v1/jobs/{cancelled}/cancel"),
            Some(&staff),
            &json!({"reason": "客户已自行解决"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let month = this_month();
    let resp = o
        .http
        .get(o.url(&format!("/api/v1/reports/monthly.xlsx?month={month}")))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("xlsx");
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.bytes().await.expect("body");
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("calamine opens the workbook");
    assert_eq!(
        book.sheet_names(),
        [
            "月度汇总",
            "指标汇总",
            "指标-班组",
            "指标-人员",
            "指标-类型",
            "信息反馈",
            "工单"
        ],
        "one sheet per table, the KPI tables after the summary"
    );
    kpi_sheets_agree_with_the_dashboard(&o, &staff, &mut book, &month).await;
    let summary = book.worksheet_range("月度汇总").expect("summary");
    assert_eq!(
        cell(&summary, "本月新建工单"),
        &Data::Float(4.0),
        "four jobs created"
    );
    assert_eq!(cell(&summary, "已取消"), &Data::Float(1.0));
    assert_eq!(cell(&summary, "已关闭"), &Data::Float(3.0));
    assert_eq!(
        cell(&summary, "全部工单关闭比例"),
        &Data::Float(1.0),
        "3 closed of 3 not cancelled"
    );
    assert_eq!(
        cell(&summary, "4小时内解决"),
        &Data::Float(2.0),
        "two resolved at once"
    );
    assert_eq!(cell(&summary, "已评价"), &Data::Float(2.0));
    assert_eq!(
        cell(&summary, "平均满意度"),
        &Data::Float(3.5),
        "(5 + 2) / 2"
    );
    assert_eq!(
        cell(&summary, "满意率"),
        &Data::Float(0.5),
        "one of two rated 4–5"
    );

    let feedback = book.worksheet_range("信息反馈").expect("feedback");
    assert_eq!(feedback.height(), 4, "a heading and three records");
    let formulas = book.worksheet_formula("信息反馈").expect("formulas");
    assert!(
        formulas.rows().flatten().all(|f| f.is_empty()),
        "not one formula in the sheet"
    );
    let comment = feedback
        .rows()
        .flat_map(|r| r.iter())
        .find(|c| c.to_string().contains("HYPERLINK"))
        .expect("the formula-like comment is kept");
    assert_eq!(
        comment,
        &Data::String(FORMULA.into()),
        "kept as the text the customer typed, a text cell"
    );
    assert!(
        feedback
            .rows()
            .any(|r| r.iter().any(|c| c == &Data::String(TRICKY.into()))),
        "Chinese, quotes and newlines as typed"
    );
    let jobs = book.worksheet_range("工单").expect("jobs");
    assert_eq!(jobs.height(), 5, "a heading and the month's four jobs");

    let (status, body) = o
        .get_json("/api/v1/reports/monthly.xlsx?month=2026-13", &staff)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let tech = o.device("tech_a").await;
    let (status, _) = o
        .get_json(
            &format!("/api/v1/reports/monthly.xlsx?month={month}"),
            tech.token(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "staff only");

    let admin = o.staff_token("admin").await;
    let (_, page) = o
        .get_json("/api/v1/console/audit?kind=document_download", &admin)
        .await;
    assert_eq!(
        page["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| (e["detail"].clone(), e["username"].clone()))
            .collect::<Vec<_>>(),
        vec![(
            json!({"document": "monthly_xlsx", "month": month}),
            json!("dispatch")
        )],
        "the one workbook that left, not the refused requests"
    );
}

#[tokio::test]
async fn a_record_lost_or_never_written_is_written_again_at_the_next_start() {
    let mut o = TestOffice::start().await;
    let staff = o.staff_token("dispatch").await;
    let jobs = three_visits(&o, &staff).await;
    let db = rusqlite::Connection::open(o.db()).expect("open the database");
    db.execute(
        "DELETE FROM feedback_records WHERE job_id = ?1",
        [jobs[1].to_string()],
    )
    .expect("lose a record (as an office before migration 0018 never had it)");
    drop(db);
    let (_, before) = page(&o, &staff, "").await;
    assert_eq!(before["total"], 2);
    o.restart().await;
    let staff = o.staff_token("dispatch").await;
    let (_, after) = page(&o, &staff, "").await;
    assert_eq!(after["total"], 3, "backfilled at start: {after}");
    let mut names = ids_of(&after);
    names.sort();
    assert_eq!(
        names,
        ["王秀英", "赵 强", "钱, 多多"]
            .map(String::from)
            .into_iter()
            .collect::<Vec<_>>()
            .tap_sorted(),
        "the records kept and the lost one"
    );
}

trait TapSorted {
    fn tap_sorted(self) -> Self;
}

impl TapSorted for Vec<String> {
    fn tap_sorted(mut self) -> Self {
        self.sort();
        self
    }
}
