//! The monthly workbook's KPI sheets against the dashboard's answer (split from documents.rs).

use super::*;

pub(super) fn this_month() -> String {
    let tz = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    chrono::Utc::now()
        .with_timezone(&tz)
        .format("%Y-%m")
        .to_string()
}

/// The workbook's KPI sheets hold the dashboard's figures (`GET /api/v1/kpi`) for the month: every
/// figure with B, A, B ÷ A, its target and whether it is met; per person and per kind the same.
pub(super) async fn kpi_sheets_agree_with_the_dashboard(
    o: &TestOffice,
    staff: &str,
    book: &mut Xlsx<std::io::Cursor<Vec<u8>>>,
    month: &str,
) {
    let first =
        chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").expect("a month");
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .expect("its last day");
    let ask = |group: &str| format!("/api/v1/kpi?from={first}&to={last}&group={group}");
    let as_num = |d: &Data| match d {
        Data::Float(x) => Some(*x),
        Data::Int(n) => Some(*n as f64),
        _ => None,
    };
    let check_row = |row: &[Data], f: &Value, what: &str| {
        assert_eq!(
            row[1],
            Data::String(f["key"].as_str().expect("key").into()),
            "{what}"
        );
        assert_eq!(as_num(&row[2]), f["numerator"].as_f64(), "B of {what}");
        assert_eq!(as_num(&row[3]), f["denominator"].as_f64(), "A of {what}");
        match f["value"].as_f64() {
            Some(v) => {
                let got = as_num(&row[4]).unwrap_or_else(|| panic!("a value for {what}"));
                assert!((got - v).abs() < 1e-4, "B ÷ A of {what}: {got} vs {v}");
            }
            None => assert_eq!(row[4], Data::String("—".into()), "no value for {what}"),
        }
        let target = row[5].to_string();
        assert_eq!(
            target.is_empty(),
            f["target"].is_null(),
            "target of {what}: {target}"
        );
        let sign = if f["at_most"] == true { "≤" } else { "≥" };
        assert!(
            target.is_empty() || target.starts_with(sign),
            "{what}: {target}"
        );
        let met = match f["met"].as_bool() {
            Some(true) => "是",
            Some(false) => "否",
            None => "",
        };
        assert_eq!(row[6].to_string(), met, "met of {what}");
    };
    let (status, overall) = o.get_json(&ask("person"), staff).await;
    assert_eq!(status, StatusCode::OK, "{overall}");
    let figures = overall["figures"].as_array().expect("figures");
    let keys: Vec<&str> = figures.iter().filter_map(|f| f["key"].as_str()).collect();
    for key in [
        "timely_repair",
        "complaint_rate",
        "complaints_in_time",
        "reports_in_time",
        "notices_complied",
        "patrol_on_time",
        "patrol_late",
        "patrol_missed",
    ] {
        assert!(keys.contains(&key), "the dashboard answers {key}: {keys:?}");
    }
    let rate = &figures[keys
        .iter()
        .position(|k| *k == "complaint_rate")
        .expect("rate")];
    assert_eq!(
        (&rate["numerator"], &rate["denominator"]),
        (&json!(0), &json!(3)),
        "no complaint over the three jobs not cancelled"
    );
    let sheet = book.worksheet_range("指标汇总").expect("overall");
    let rows: Vec<&[Data]> = sheet.rows().skip(1).collect();
    assert_eq!(rows.len(), figures.len(), "one row per figure");
    for (row, f) in rows.iter().zip(figures) {
        check_row(row, f, &format!("overall {}", f["key"]));
    }
    for (group, name) in [("person", "指标-人员"), ("kind", "指标-类型")] {
        let (status, answer) = o.get_json(&ask(group), staff).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let sheet = book.worksheet_range(name).expect("group sheet");
        let rows: Vec<&[Data]> = sheet.rows().skip(1).collect();
        let groups = answer["groups"].as_array().expect("groups");
        assert!(!groups.is_empty(), "{group}: the month has groups");
        let expected: Vec<(&Value, &Value)> = groups
            .iter()
            .flat_map(|g| {
                g["figures"]
                    .as_array()
                    .expect("figures")
                    .iter()
                    .map(move |f| (g, f))
            })
            .collect();
        assert_eq!(
            rows.len(),
            expected.len(),
            "{name}: one row per group and figure"
        );
        for (row, (g, f)) in rows.iter().zip(expected) {
            let label = row[0].to_string();
            if group == "person" {
                assert_eq!(label, g["label"].as_str().expect("label"), "{name}");
            } else {
                assert!(
                    label.ends_with(g["key"].as_str().expect("key")),
                    "{name}: {label}"
                );
            }
            check_row(&row[1..], f, &format!("{name} {label} {}", f["key"]));
        }
    }
    assert!(
        book.worksheet_range("指标-班组").expect("crews").height() >= 1,
        "the crew sheet has at least its heading"
    );
}

pub(super) fn cell<'a>(sheet: &'a calamine::Range<Data>, label: &str) -> &'a Data {
    let row = sheet
        .rows()
        .find(|r| r[0].to_string().starts_with(label))
        .unwrap_or_else(|| panic!("a summary row {label}"));
    &row[1]
}
