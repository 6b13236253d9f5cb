//! What tests/month.rs reads back the way a person would: the monthly workbooks (calamine) and
//! the KPI dashboard (headless Chromium).

use super::PASSWORD;
use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use heatcrew_system_tests::browser::{self, Browser, ChromiumParts};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration as StdDuration;

/// The KPI dashboard in headless Chromium for the simulated period, repairs only, per person:
/// its closure tile shows the script's figure. `HEATCREW_SCREENSHOTS=$PWD/docs/screenshots` saves
/// `console-kpi-week.png`. Skips (saying why) without Chromium or `console/dist`, unless required.
pub async fn show_the_week(
    url: &str,
    from: NaiveDate,
    to: NaiveDate,
    closure: (u64, u64),
    dir: &Path,
) -> anyhow::Result<()> {
    let Some(parts) = ChromiumParts::find() else {
        return Ok(());
    };
    if !browser::console_built("month dashboard") {
        return Ok(());
    }
    let browser = Browser::launch(&parts, &dir.join("chromium"), "zh-CN", "Asia/Shanghai").await?;
    let b = &browser;
    b.client.goto(url).await?;
    b.fill("console-login-user", "admin").await?;
    b.fill("console-login-password", PASSWORD).await?;
    b.click("console-login-submit").await?;
    b.click("nav-kpi").await?;
    b.el("kpi-figure").await?;
    for (testid, value) in [
        ("kpi-kind", "home_repair".to_owned()),
        ("kpi-group", "person".to_owned()),
        ("kpi-from", from.to_string()),
        ("kpi-to", to.to_string()),
    ] {
        b.set_value(testid, &value).await?;
        tokio::time::sleep(StdDuration::from_millis(500)).await;
    }
    let check = format!(
        "const f = document.querySelector('[data-testid=\"kpi-figure\"][data-key=\"closure\"]'); \
         return !!f && f.dataset.numerator === '{}' && f.dataset.denominator === '{}' \
           && document.querySelectorAll('[data-testid=\"kpi-group-row\"]').length === 2;",
        closure.0, closure.1
    );
    // The page shows whichever answer came in last, so an earlier, slower one (the month's, before
    // the dates were set) can still land on top on a loaded machine: ask once more while it does.
    for _ in 0..5 {
        if b.js(&check).await?.as_bool() == Some(true) {
            break;
        }
        tokio::time::sleep(StdDuration::from_secs(2)).await;
        if b.js(&check).await?.as_bool() == Some(true) {
            break;
        }
        b.set_value("kpi-to", &to.to_string()).await?;
    }
    b.until("the week's closure figure and a row per technician", &check)
        .await?;
    b.until(
        "the trend chart",
        "return !!document.querySelector('[data-testid=\"kpi-trend\"] canvas');",
    )
    .await?;
    b.shot("console-kpi-week").await?;
    browser.quit().await;
    Ok(())
}

/// What the workbooks hold, summed over months.
#[derive(Debug, Default)]
pub struct Sums {
    pub summary: BTreeMap<String, f64>,
    pub feedback_rows: u64,
    pub job_rows: u64,
    pub reinspection_rows: u64,
}

impl Sums {
    pub fn add(&mut self, bytes: &[u8], dir: &Path, month: &str) {
        std::fs::write(dir.join(format!("monthly-{month}.xlsx")), bytes).expect("keep a copy");
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
            "{month}"
        );
        let summary = book.worksheet_range("月度汇总").expect("summary");
        for row in summary.rows() {
            let label = row[0].to_string();
            let key = label
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            if let Some(v) = match row.get(1) {
                Some(Data::Float(f)) => Some(*f),
                Some(Data::Int(i)) => Some(*i as f64),
                _ => None,
            } {
                *self.summary.entry(key).or_default() += v;
            }
        }
        let feedback = book.worksheet_range("信息反馈").expect("feedback");
        self.feedback_rows += feedback.height().saturating_sub(1) as u64;
        let jobs = book.worksheet_range("工单").expect("jobs");
        self.job_rows += jobs.height().saturating_sub(1) as u64;
        self.reinspection_rows += jobs
            .rows()
            .filter(|r| r.iter().any(|c| c.to_string().starts_with("整改复查")))
            .count() as u64;
    }

    pub fn get(&self, key: &str) -> f64 {
        self.summary.get(key).copied().unwrap_or(f64::NAN)
    }
}
