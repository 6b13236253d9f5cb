//! The KPI tables of the monthly workbook (issue 13 point 8): the month's figures with their
//! targets, and the same figures per crew, per person and per job kind, one sheet each. Every
//! number is the KPI answer's ([`crate::kpi::answers`]: the dashboard's answer, the three
//! breakdowns counted in one pass as the facts are read), so the workbook and the dashboard agree.

use super::{Cell, Column, DocumentError, RowSink, Table, col};
use crate::kpi::figures::Figure;
use crate::kpi::{GroupBy, KpiAnswer, KpiGroup, KpiQuery, answers};
use crate::store::{OfficeStore, StoreError, StoreResult};
use chrono::{DateTime, Duration, FixedOffset, Utc};
use heatcrew_protocol::ErrorCode;

/// A figure's name as a sheet shows it, Chinese first.
pub fn figure_label(key: &str) -> &'static str {
    match key {
        "timely_repair" => "维修及时率 Timely repair",
        "closure" => "处结率 Closure",
        "no_entry" => "未入户率 No entry",
        "on_time_arrival" => "按时到达率 On-time arrival",
        "satisfaction" => "满意率 Satisfied (4–5★)",
        "satisfaction_mean" => "平均满意度 Mean rating",
        "complaint_rate" => "投诉率 Complaint rate",
        "complaints_in_time" => "投诉按时答复率 Complaints answered in time",
        "reports_in_time" => "举报按时答复率 Reports answered in time",
        "notices_complied" => "整改按期完成率 Notices complied by deadline",
        "patrol_on_time" => "巡检按时率 Patrol rounds on time",
        "patrol_late" => "巡检迟到率 Patrol rounds late",
        "patrol_missed" => "漏巡率 Patrol rounds missed",
        _ => "",
    }
}

/// The month's figures: one row each.
const OVERALL_COLUMNS: &[Column] = &[
    col("指标 Figure", 36.0),
    col("键 Key", 18.0),
    col("分子 B", 10.0),
    col("分母 A", 10.0),
    col("数值 B ÷ A", 12.0),
    col("目标 Target", 12.0),
    col("达标 Met", 8.0),
];

/// A group's figures: the group, then the figure's columns.
const GROUP_COLUMNS: &[Column] = &[
    col("分组 Group", 20.0),
    col("指标 Figure", 36.0),
    col("键 Key", 18.0),
    col("分子 B", 10.0),
    col("分母 A", 10.0),
    col("数值 B ÷ A", 12.0),
    col("目标 Target", 12.0),
    col("达标 Met", 8.0),
];

fn figure_cells(f: &Figure) -> Vec<Cell> {
    let num = |v: Option<f64>| v.map_or(Cell::text("—"), |v| Cell::Num((v * 1e4).round() / 1e4));
    let target = match f.target {
        None => Cell::Empty,
        Some(t) => {
            let shown = if f.unit == "stars" {
                format!("{t}★")
            } else {
                format!("{}%", (t * 1000.0).round() / 10.0)
            };
            Cell::text(format!("{} {shown}", if f.at_most { "≤" } else { "≥" }))
        }
    };
    let met = match f.met {
        Some(true) => Cell::text("是"),
        Some(false) => Cell::text("否"),
        None => Cell::Empty,
    };
    vec![
        Cell::text(figure_label(&f.key)),
        Cell::text(&f.key),
        Cell::Int(f.numerator as i64),
        Cell::Int(f.denominator as i64),
        num(f.value),
        target,
        met,
    ]
}

/// The month's figures against their targets (the first KPI sheet).
#[derive(Debug)]
pub struct KpiOverallTable {
    pub figures: Vec<Figure>,
}

impl Table for KpiOverallTable {
    fn name(&self) -> &str {
        "指标汇总"
    }

    fn columns(&self) -> &[Column] {
        OVERALL_COLUMNS
    }

    fn rows(&mut self, _: &dyn OfficeStore, sink: &mut RowSink<'_>) -> Result<(), DocumentError> {
        for f in &self.figures {
            sink(&figure_cells(f))?;
        }
        Ok(())
    }
}

/// The figures of every group (a crew, a person, a job kind): one row per group and figure.
#[derive(Debug)]
pub struct KpiGroupTable {
    pub name: &'static str,
    pub by: GroupBy,
    pub groups: Vec<KpiGroup>,
}

impl Table for KpiGroupTable {
    fn name(&self) -> &str {
        self.name
    }

    fn columns(&self) -> &[Column] {
        GROUP_COLUMNS
    }

    fn rows(&mut self, _: &dyn OfficeStore, sink: &mut RowSink<'_>) -> Result<(), DocumentError> {
        for g in &self.groups {
            let label = if self.by == GroupBy::Kind {
                format!("{} {}", crate::feedback::kind_zh(&g.key), g.key)
            } else {
                g.label.clone()
            };
            for f in &g.figures {
                let mut row = vec![Cell::text(&label)];
                row.extend(figure_cells(f));
                sink(&row)?;
            }
        }
        Ok(())
    }
}

/// The KPI sheets of the company's month `[from, to)` (UTC+8 days) at `now`: overall, per crew,
/// per person, per kind.
pub fn kpi_tables(
    store: &dyn OfficeStore,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<(KpiOverallTable, [KpiGroupTable; 3])> {
    let tz = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is valid");
    let first = from.with_timezone(&tz).date_naive();
    let last = (to - Duration::seconds(1)).with_timezone(&tz).date_naive();
    let q = KpiQuery {
        from: first,
        to: last,
        utc_offset_minutes: 480,
        group: GroupBy::None,
        kind: None,
        crew: None,
        person: None,
    };
    // One pass over the month's facts for all three breakdowns, counted as the rows are read.
    let by = [GroupBy::Crew, GroupBy::Person, GroupBy::Kind];
    let [crew, person, kind]: [KpiAnswer; 3] = answers(store, &q, &by, now)?
        .and_then(|a| a.try_into().ok())
        .ok_or_else(|| StoreError::Invalid {
            code: ErrorCode::InvalidValue,
            message: format!("no KPI period {first} – {last}"),
        })?;
    Ok((
        KpiOverallTable {
            figures: crew.figures,
        },
        [
            KpiGroupTable {
                name: "指标-班组",
                by: GroupBy::Crew,
                groups: crew.groups,
            },
            KpiGroupTable {
                name: "指标-人员",
                by: GroupBy::Person,
                groups: person.groups,
            },
            KpiGroupTable {
                name: "指标-类型",
                by: GroupBy::Kind,
                groups: kind.groups,
            },
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_has_a_label_and_a_row_spells_b_a_target_and_met() {
        for key in crate::kpi::figures::JOB_FIGURES
            .iter()
            .chain(crate::kpi::standard::OFFICE_FIGURES)
        {
            assert!(!figure_label(key).is_empty(), "{key} has a label");
        }
        let row = figure_cells(&Figure::new("complaint_rate", 3, 200, Some(0.01)));
        assert_eq!(row[2], Cell::Int(3));
        assert_eq!(row[3], Cell::Int(200));
        assert_eq!(row[4], Cell::Num(0.015));
        assert_eq!(row[5], Cell::text("≤ 1%"));
        assert_eq!(row[6], Cell::text("否"));
        let row = figure_cells(&Figure::new("timely_repair", 0, 0, Some(0.98)));
        assert_eq!((&row[4], &row[6]), (&Cell::text("—"), &Cell::Empty));
        assert_eq!(row[5], Cell::text("≥ 98%"));
    }
}
