//! The job-based KPIs, each a figure B ÷ A over the jobs of a period (README, "KPIs"). Every
//! definition is one function from a job's facts to "not in A", "in A only" or "in A and B"
//! ([`classify`]), so the totals, the groups, the daily trend and the drill-down to the jobs behind
//! a figure can never disagree.
//!
//! Rules common to all: a cancelled job and a field-created job no dispatcher accepted yet are in
//! no A; a non-conforming job ([`super::conformance`]) is in every A it belongs to and in no B.

use super::facts::KpiFacts;
use chrono::{DateTime, Utc};
use heatcrew_protocol::Resolution;
use serde::{Deserialize, Serialize};

/// The figures this module computes, in the order they are shown.
pub const JOB_FIGURES: &[&str] = &[
    TIMELY_REPAIR,
    CLOSURE,
    NO_ENTRY,
    ON_TIME_ARRIVAL,
    SATISFACTION,
    SATISFACTION_MEAN,
];
/// 维修及时率: repairs resolved within 4 h of the report ÷ repairs due.
pub const TIMELY_REPAIR: &str = "timely_repair";
/// 处结率: repairs closed as resolved ÷ repairs reported.
pub const CLOSURE: &str = "closure";
/// Repairs closed at the door (not home, no entry) ÷ repairs reported: shown, no target.
pub const NO_ENTRY: &str = "no_entry";
/// 按时到达率: visits arrived by the end of their appointment window ÷ visits due to arrive.
pub const ON_TIME_ARRIVAL: &str = "on_time_arrival";
/// 满意率: visits rated 4 or 5 stars ÷ rated visits.
pub const SATISFACTION: &str = "satisfaction";
/// 平均满意度: stars given ÷ rated visits.
pub const SATISFACTION_MEAN: &str = "satisfaction_mean";

/// One figure: B ÷ A against its target. The answer of every KPI source (jobs here; complaints,
/// notices and patrol plans plug in with their own keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Figure {
    pub key: String,
    /// B.
    #[ts(type = "number")]
    pub numerator: u64,
    /// A.
    #[ts(type = "number")]
    pub denominator: u64,
    /// B ÷ A; `null` when A is 0 (nothing to measure, not 0 % and not 100 %).
    pub value: Option<f64>,
    /// The target `value` should reach (at least); `null` for figures shown without one.
    pub target: Option<f64>,
    /// `ratio` (a share, shown as a percentage) or `stars` (a mean of 1–5).
    pub unit: String,
    /// `value >= target` (or `value <= target` for a ceiling, `at_most`); `null` without a value
    /// or a target.
    pub met: Option<bool>,
    /// The target is a ceiling (complaint rate, late and missed patrol rounds): lower is better.
    pub at_most: bool,
}

impl Figure {
    pub fn new(key: &str, numerator: u64, denominator: u64, target: Option<f64>) -> Figure {
        let value = (denominator > 0).then(|| numerator as f64 / denominator as f64);
        let at_most = super::standard::at_most(key);
        Figure {
            key: key.to_owned(),
            numerator,
            denominator,
            value,
            target,
            unit: unit(key).to_owned(),
            met: value.zip(target).map(|(v, t)| {
                if at_most {
                    v <= t + 1e-9
                } else {
                    v >= t - 1e-9
                }
            }),
            at_most,
        }
    }
}

pub fn unit(key: &str) -> &'static str {
    if key == SATISFACTION_MEAN {
        "stars"
    } else {
        "ratio"
    }
}

/// Where a job stands in one figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Not in A.
    Out,
    /// In A; adds `b` to B (1 for a share, the stars for the mean).
    In { b: u64 },
}

/// A job's place in figure `key`, at `now` (a repair's 4 hours may not have run out yet).
pub fn classify(key: &str, f: &KpiFacts, now: DateTime<Utc>) -> Place {
    if f.cancelled || !f.counted {
        return Place::Out;
    }
    let ok = |cond: bool| Place::In {
        b: u64::from(cond && f.conforming),
    };
    let repair = f.is_repair();
    let no_entry = f.resolution == Some(Resolution::NoEntry);
    match key {
        // A: repairs with a report time, not closed at the door, resolved or past their deadline.
        // B: of those, resolved (a conforming closure) by the deadline.
        TIMELY_REPAIR => match f.repair_deadline() {
            Some(due) if repair && !no_entry && (f.resolved_at().is_some() || now > due) => {
                ok(f.resolved_at().is_some_and(|r| r <= due))
            }
            _ => Place::Out,
        },
        // A: repairs, not closed at the door. B: of those, closed as resolved.
        CLOSURE if repair && !no_entry => ok(f.resolved_at().is_some()),
        // A: repairs. B: of those, closed at the door.
        NO_ENTRY if repair => Place::In {
            b: u64::from(no_entry),
        },
        // A: jobs with an appointment that arrived, or whose window has ended.
        // B: of those, arrived by the window's end (early is on time: the technician was there).
        ON_TIME_ARRIVAL => match f.window_end {
            Some(end) if f.arrived_at.is_some() || now > end => {
                ok(f.arrived_at.is_some_and(|a| a <= end))
            }
            _ => Place::Out,
        },
        // A: conforming jobs with a rating (a rating on a non-conforming job may be made up, so
        // it is in neither). B: rated 4 or 5 / the stars.
        SATISFACTION => match f.rating {
            Some(stars) if f.conforming => Place::In {
                b: u64::from(stars >= 4),
            },
            _ => Place::Out,
        },
        SATISFACTION_MEAN => match f.rating {
            Some(stars) if f.conforming => Place::In {
                b: u64::from(stars),
            },
            _ => Place::Out,
        },
        _ => Place::Out,
    }
}

/// B and A of every job figure over `facts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    counts: Vec<(u64, u64)>,
}

/// A tally of nothing yet: one zero count per figure (a derived default would have none).
impl Default for Tally {
    fn default() -> Tally {
        Tally::new()
    }
}

impl Tally {
    pub fn new() -> Tally {
        Tally {
            counts: vec![(0, 0); JOB_FIGURES.len()],
        }
    }

    pub fn add(&mut self, f: &KpiFacts, now: DateTime<Utc>) {
        self.add_places(&super::fold::places(f, now));
    }

    /// Count a job already classified in every figure ([`super::fold::places`]).
    pub fn add_places(&mut self, places: &super::fold::Places) {
        for (count, place) in self.counts.iter_mut().zip(places) {
            if let Place::In { b } = place {
                count.0 += b;
                count.1 += 1;
            }
        }
    }

    /// The figures, each against its target (`target(key)`).
    pub fn figures(&self, target: impl Fn(&str) -> Option<f64>) -> Vec<Figure> {
        JOB_FIGURES
            .iter()
            .zip(&self.counts)
            .map(|(key, (b, a))| Figure::new(key, *b, *a, target(key)))
            .collect()
    }
}

/// The default targets (the service standard aims at 100 % for timely repair and closure; the
/// company sets what it holds staff to): overridden per key in `kpi_targets`.
pub fn default_target(key: &str) -> Option<f64> {
    match key {
        TIMELY_REPAIR => Some(0.98),
        CLOSURE => Some(0.98),
        ON_TIME_ARRIVAL => Some(0.95),
        SATISFACTION => Some(0.95),
        SATISFACTION_MEAN => Some(4.5),
        other => super::standard::default_target(other),
    }
}

/// Every figure whose target an admin may set, in the order shown.
pub fn settable() -> impl Iterator<Item = &'static str> {
    JOB_FIGURES
        .iter()
        .chain(super::standard::OFFICE_FIGURES)
        .copied()
        .filter(|k| *k != NO_ENTRY)
}

/// Whether `target` is a possible target for `key`: a share in 0–1, a mean in 1–5.
pub fn valid_target(key: &str, target: f64) -> bool {
    let known = JOB_FIGURES.contains(&key) || super::standard::OFFICE_FIGURES.contains(&key);
    if !known || key == NO_ENTRY || !target.is_finite() {
        return false;
    }
    if unit(key) == "stars" {
        (1.0..=5.0).contains(&target)
    } else {
        (0.0..=1.0).contains(&target)
    }
}
