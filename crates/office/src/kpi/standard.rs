//! The office-wide figures of the service standard that are not about one job (issue 13 point 3):
//! complaints and reports (`crate::complaints::figures`), rectification notices
//! (`crate::notices::notices_complied_by_deadline`) and patrol checkpoints
//! (`crate::patrols::compliance::patrol_figures`), each turned into a [`Figure`] B ÷ A with its own
//! key and target, next to the job figures of [`super::figures`].
//!
//! They belong to the whole company, not to a crew, person or job kind, so they are in the period's
//! totals only (not in the groups or the daily trend), and only when the answer is not narrowed to
//! a kind, crew or person (README, "KPIs").

use super::facts::KpiFacts;
use super::figures::Figure;
use crate::complaints::figures::ComplaintFigures;
use crate::notices::Ratio as NoticeRatio;
use crate::patrols::compliance::CheckpointFigures;
use crate::store::{OfficeStore, StoreResult};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use heatcrew_protocol::JobKind;

/// 投诉率: complaints received ÷ customer jobs of the period (lower is better).
pub const COMPLAINT_RATE: &str = "complaint_rate";
/// 投诉按时答复率: complaints answered within 5 days ÷ complaints decided.
pub const COMPLAINTS_IN_TIME: &str = "complaints_in_time";
/// 举报按时答复率: reports answered within 7 days ÷ reports decided.
pub const REPORTS_IN_TIME: &str = "reports_in_time";
/// 整改按期完成率: notices found complied with ÷ notices due in the period.
pub const NOTICES_COMPLIED: &str = "notices_complied";
/// 巡检按时率: checkpoint rounds visited on time ÷ rounds judged.
pub const PATROL_ON_TIME: &str = "patrol_on_time";
/// 巡检迟到率: rounds visited late ÷ rounds judged (lower is better).
pub const PATROL_LATE: &str = "patrol_late";
/// 漏巡率: rounds missed ÷ rounds judged (lower is better).
pub const PATROL_MISSED: &str = "patrol_missed";

/// These figures, in the order they are shown (after the job figures).
pub const OFFICE_FIGURES: &[&str] = &[
    COMPLAINT_RATE,
    COMPLAINTS_IN_TIME,
    REPORTS_IN_TIME,
    NOTICES_COMPLIED,
    PATROL_ON_TIME,
    PATROL_LATE,
    PATROL_MISSED,
];

/// Whether a figure's target is a ceiling (the value should stay at or under it).
pub fn at_most(key: &str) -> bool {
    matches!(key, COMPLAINT_RATE | PATROL_LATE | PATROL_MISSED)
}

/// The default targets (the service standard answers every complaint and report in time and
/// patrols every round; the company may hold staff to less): overridden in `kpi_targets`.
pub fn default_target(key: &str) -> Option<f64> {
    match key {
        COMPLAINT_RATE => Some(0.01),
        COMPLAINTS_IN_TIME | REPORTS_IN_TIME => Some(1.0),
        NOTICES_COMPLIED => Some(0.9),
        PATROL_ON_TIME => Some(0.95),
        PATROL_MISSED => Some(0.0),
        _ => None,
    }
}

/// Whether a job is in A of the complaint rate: a job at a customer's (not cancelled, accepted, not
/// a patrol round).
pub fn is_customer_job(f: &KpiFacts) -> bool {
    !f.cancelled && f.counted && f.kind != JobKind::PatrolRound
}

/// A of the complaint rate over `facts`: the period's jobs at a customer's.
pub fn customer_jobs(facts: &[KpiFacts]) -> u64 {
    facts.iter().filter(|f| is_customer_job(f)).count() as u64
}

/// The counts behind the figures (each source's own answer).
#[derive(Debug, Clone)]
pub struct Sources {
    pub complaints: ComplaintFigures,
    pub customer_jobs: u64,
    pub notices: NoticeRatio,
    pub patrols: CheckpointFigures,
}

/// The figures of `s`, each against `target(key)`.
pub fn figures(s: &Sources, target: impl Fn(&str) -> Option<f64>) -> Vec<Figure> {
    let c = &s.complaints;
    let p = &s.patrols;
    let judged = p.on_time + p.late + p.missed;
    let parts = [
        (COMPLAINT_RATE, c.complaints_received, s.customer_jobs),
        (
            COMPLAINTS_IN_TIME,
            c.complaints_answered_in_time.numerator,
            c.complaints_answered_in_time.denominator,
        ),
        (
            REPORTS_IN_TIME,
            c.reports_answered_in_time.numerator,
            c.reports_answered_in_time.denominator,
        ),
        (NOTICES_COMPLIED, s.notices.numerator, s.notices.denominator),
        (PATROL_ON_TIME, p.on_time, judged),
        (PATROL_LATE, p.late, judged),
        (PATROL_MISSED, p.missed, judged),
    ];
    parts
        .into_iter()
        .map(|(key, b, a)| Figure::new(key, b, a, target(key)))
        .collect()
}

/// Read the sources for the local days `from..=to` (UTC `[start, end)`) at `now`; the period's
/// `customer_jobs` were counted with its job facts ([`is_customer_job`]).
#[allow(clippy::too_many_arguments)]
pub fn sources(
    store: &dyn OfficeStore,
    from: NaiveDate,
    to: NaiveDate,
    tz: FixedOffset,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
    customer_jobs: u64,
) -> StoreResult<Sources> {
    let complaints = crate::complaints::figures::figures(store, start, end, now)?;
    let notices =
        crate::notices::notices_complied_by_deadline(&store.notices()?, from, to, now, tz);
    let patrols = crate::patrols::compliance::patrol_figures(store, start, end, now)?;
    Ok(Sources {
        complaints,
        customer_jobs,
        notices,
        patrols,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::complaints::figures::Ratio;

    fn sources() -> Sources {
        let now = Utc::now();
        Sources {
            complaints: ComplaintFigures {
                from: now,
                to: now,
                now,
                complaints_received: 3,
                complaints_answered_in_time: Ratio {
                    numerator: 1,
                    denominator: 2,
                },
                reports_received: 1,
                reports_answered_in_time: Ratio {
                    numerator: 0,
                    denominator: 0,
                },
                overdue_open: 1,
                pending: 1,
            },
            customer_jobs: 200,
            notices: NoticeRatio {
                numerator: 3,
                denominator: 4,
            },
            patrols: CheckpointFigures {
                on_time: 45,
                late: 3,
                missed: 2,
                pending: 7,
            },
        }
    }

    fn by_key(figs: &[Figure], key: &str) -> Figure {
        figs.iter().find(|f| f.key == key).cloned().expect(key)
    }

    #[test]
    fn each_figure_is_its_b_over_its_a() {
        let figs = figures(&sources(), |k| {
            super::default_target(k).or(super::super::figures::default_target(k))
        });
        let keys: Vec<&str> = figs.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, OFFICE_FIGURES);
        let rate = by_key(&figs, COMPLAINT_RATE);
        assert_eq!((rate.numerator, rate.denominator), (3, 200));
        assert_eq!(rate.value, Some(0.015));
        assert_eq!(rate.met, Some(false), "1.5 % is over a 1 % ceiling");
        assert!(rate.at_most);
        let c = by_key(&figs, COMPLAINTS_IN_TIME);
        assert_eq!((c.numerator, c.denominator, c.met), (1, 2, Some(false)));
        let r = by_key(&figs, REPORTS_IN_TIME);
        assert_eq!(
            (r.value, r.met),
            (None, None),
            "0 ÷ 0 is no figure, not 100 %"
        );
        let n = by_key(&figs, NOTICES_COMPLIED);
        assert_eq!((n.numerator, n.denominator, n.met), (3, 4, Some(false)));
        let on = by_key(&figs, PATROL_ON_TIME);
        assert_eq!(
            (on.numerator, on.denominator),
            (45, 50),
            "pending rounds not judged"
        );
        assert_eq!(on.met, Some(false));
        let late = by_key(&figs, PATROL_LATE);
        assert_eq!((late.numerator, late.denominator, late.met), (3, 50, None));
        let missed = by_key(&figs, PATROL_MISSED);
        assert_eq!((missed.numerator, missed.met), (2, Some(false)));
    }

    #[test]
    fn a_ceiling_is_met_at_or_under_it_and_a_floor_at_or_over_it() {
        let mut s = sources();
        s.patrols = CheckpointFigures {
            on_time: 19,
            late: 1,
            missed: 0,
            pending: 0,
        };
        s.complaints.complaints_received = 2;
        let figs = figures(&s, |k| match k {
            PATROL_LATE => Some(0.05),
            PATROL_ON_TIME => Some(0.95),
            COMPLAINT_RATE => Some(0.01),
            PATROL_MISSED => Some(0.0),
            _ => None,
        });
        assert_eq!(by_key(&figs, PATROL_LATE).met, Some(true), "5 % ≤ 5 %");
        assert_eq!(by_key(&figs, PATROL_ON_TIME).met, Some(true), "95 % ≥ 95 %");
        assert_eq!(by_key(&figs, COMPLAINT_RATE).met, Some(true), "1 % ≤ 1 %");
        assert_eq!(by_key(&figs, PATROL_MISSED).met, Some(true), "none missed");
    }

    #[test]
    fn the_complaint_rate_counts_customer_jobs_only() {
        let fact = |kind| KpiFacts {
            job_id: uuid::Uuid::now_v7(),
            kind,
            title: "暖气不热".into(),
            person: None,
            anchor_at: Utc::now(),
            reported_at: None,
            window_start: None,
            window_end: None,
            arrived_at: None,
            resolution: None,
            closed_at: None,
            rating: None,
            cancelled: false,
            counted: true,
            conforming: true,
        };
        let mut facts = vec![
            fact(JobKind::HomeRepair),
            fact(JobKind::EmergencyRepair),
            fact(JobKind::PatrolRound),
            fact(JobKind::HeatTheftInspection),
        ];
        facts[1].cancelled = true;
        facts[3].counted = false;
        assert_eq!(customer_jobs(&facts), 1);
    }
}
