//! The compliance grid of a plan: checkpoint × day (or × hour of one day), each cell the counts of
//! its rounds on time / late / missed / pending, flagged readings, and one state for its colour
//! (the console writes the counts too: colour is never the only sign).

use super::PatrolPlan;
use super::compliance::{CheckpointFigures, FlaggedReading, plan_compliance};
use crate::store::{OfficeStore, Route, StoreResult};
use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum GridResolution {
    /// One column per day.
    #[default]
    Day,
    /// One column per hour of the first day.
    Hour,
}

/// A cell's colour: the worst judged state in it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum CellState {
    /// No round expected.
    None,
    /// Every judged round on time.
    OnTime,
    /// Some late, none missed.
    Late,
    /// At least one missed.
    Missed,
    /// Rounds expected, none judged yet.
    Pending,
}

impl CellState {
    pub fn of(f: &CheckpointFigures) -> CellState {
        if f.missed > 0 {
            CellState::Missed
        } else if f.late > 0 {
            CellState::Late
        } else if f.on_time > 0 {
            CellState::OnTime
        } else if f.pending > 0 {
            CellState::Pending
        } else {
            CellState::None
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct GridCell {
    pub figures: CheckpointFigures,
    /// Readings outside the normal range in this cell.
    #[ts(type = "number")]
    pub flagged: u64,
    pub state: CellState,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct GridRow {
    pub checkpoint_id: String,
    pub name: String,
    /// `head_station`, `substation`, `pipeline_segment`.
    pub kind: String,
    pub interval_minutes: u32,
    pub cells: Vec<GridCell>,
    pub totals: CheckpointFigures,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct PatrolGrid {
    pub plan: PatrolPlan,
    pub route_name: String,
    pub resolution: GridResolution,
    /// Column labels: `YYYY-MM-DD` per day, or `HH:00` per hour.
    pub columns: Vec<String>,
    pub rows: Vec<GridRow>,
    pub totals: CheckpointFigures,
    /// The readings outside their normal range in the grid's period.
    pub flagged: Vec<FlaggedReading>,
}

/// The grid of `plan` from local date `first` over `days` days (hour resolution: that day only).
pub fn patrol_grid(
    store: &dyn OfficeStore,
    plan: PatrolPlan,
    route: &Route,
    first: NaiveDate,
    days: u32,
    resolution: GridResolution,
    now: DateTime<Utc>,
) -> StoreResult<PatrolGrid> {
    let days = match resolution {
        GridResolution::Day => days.clamp(1, 31),
        GridResolution::Hour => 1,
    };
    let last = first + Duration::days(i64::from(days) - 1);
    let c = plan_compliance(store, &plan, route, first, last, now)?;
    let tz = plan.tz();
    let columns: Vec<String> = match resolution {
        GridResolution::Day => first
            .iter_days()
            .take(days as usize)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect(),
        GridResolution::Hour => (0..24).map(|h| format!("{h:02}:00")).collect(),
    };
    let column = |t: DateTime<Utc>| -> Option<usize> {
        let local = t.with_timezone(&tz);
        match resolution {
            GridResolution::Day => usize::try_from((local.date_naive() - first).num_days()).ok(),
            GridResolution::Hour => (local.date_naive() == first).then(|| local.hour() as usize),
        }
        .filter(|i| *i < columns.len())
    };
    let mut totals = CheckpointFigures::default();
    let mut rows = Vec::new();
    for cp in &route.checkpoints {
        let mut cells = vec![
            GridCell {
                figures: CheckpointFigures::default(),
                flagged: 0,
                state: CellState::None,
            };
            columns.len()
        ];
        let mut row_totals = CheckpointFigures::default();
        for r in c.rounds.iter().filter(|r| r.checkpoint == cp.id) {
            if let Some(i) = column(r.start) {
                cells[i].figures.add(r.state);
                row_totals.add(r.state);
                totals.add(r.state);
            }
        }
        for f in c.flagged.iter().filter(|f| f.checkpoint == cp.id) {
            if let Some(i) = column(f.at) {
                cells[i].flagged += 1;
            }
        }
        for cell in &mut cells {
            cell.state = CellState::of(&cell.figures);
        }
        rows.push(GridRow {
            checkpoint_id: cp.id.clone(),
            name: cp.name.clone(),
            kind: serde_json::to_value(cp.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            interval_minutes: plan.interval(cp),
            cells,
            totals: row_totals,
        });
    }
    Ok(PatrolGrid {
        plan,
        route_name: route.name.clone(),
        resolution,
        columns,
        rows,
        totals,
        flagged: c.flagged,
    })
}
