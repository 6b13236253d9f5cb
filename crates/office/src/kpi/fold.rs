//! One pass over a period's facts as the store reads them ([`crate::store::KpiStore::each_kpi_fact`]):
//! the totals, the daily trend and the groups of every requested breakdown are counted row by row,
//! so an answer keeps a tally per group and per day, never the jobs (a month of 100,000 jobs is
//! read once, in memory that does not grow with it). Each job is classified once per figure
//! ([`Places`]) and that place is added to the totals, its groups and its day.

use super::GroupBy;
use super::facts::KpiFacts;
use super::figures::{JOB_FIGURES, Place, Tally, classify};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use uuid::Uuid;

/// A job's place in every job figure, in [`JOB_FIGURES`] order.
pub type Places = [Place; JOB_FIGURES.len()];

/// Classify `f` once for every job figure.
pub fn places(f: &KpiFacts, now: DateTime<Utc>) -> Places {
    std::array::from_fn(|i| classify(JOB_FIGURES[i], f, now))
}

/// A group while counting: ids, turned into a key and a label once at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKey {
    /// No person (or a person in no crew): key `none`, label `—`.
    Nobody,
    Crew(Uuid),
    Person(Uuid),
    Kind(&'static str),
}

/// Which crews a person is in (a person in two crews counts in both).
pub type CrewsOf = HashMap<Uuid, Vec<Uuid>>;

/// Call `add` with each group of `by` that `f` counts in.
pub fn each_group(f: &KpiFacts, by: GroupBy, crews_of: &CrewsOf, mut add: impl FnMut(GroupKey)) {
    match by {
        GroupBy::None => {}
        GroupBy::Kind => add(GroupKey::Kind(f.kind.as_str())),
        GroupBy::Person => add(f.person.map_or(GroupKey::Nobody, GroupKey::Person)),
        GroupBy::Crew => match f.person.and_then(|p| crews_of.get(&p)) {
            Some(crews) if !crews.is_empty() => crews.iter().for_each(|c| add(GroupKey::Crew(*c))),
            _ => add(GroupKey::Nobody),
        },
    }
}

/// The running counts of one answer (or of several breakdowns of the same period at once).
#[derive(Debug)]
pub struct Fold {
    now: DateTime<Utc>,
    /// The period's first instant (its first local midnight) in Unix milliseconds.
    start_ms: i64,
    pub total: Tally,
    /// One tally per local day of the period.
    pub trend: Vec<Tally>,
    /// Per breakdown asked for, in the order asked: its groups' tallies.
    pub groups: Vec<(GroupBy, HashMap<GroupKey, Tally>)>,
    /// A of the complaint rate ([`super::standard::is_customer_job`]).
    pub customer_jobs: u64,
}

const DAY_MS: i64 = 86_400_000;

impl Fold {
    /// A fold of `days` local days from `start` (a local midnight), grouped each way of `by`.
    pub fn new(start: DateTime<Utc>, days: usize, by: &[GroupBy], now: DateTime<Utc>) -> Fold {
        Fold {
            now,
            start_ms: start.timestamp_millis(),
            total: Tally::new(),
            trend: vec![Tally::new(); days],
            groups: by.iter().map(|b| (*b, HashMap::new())).collect(),
            customer_jobs: 0,
        }
    }

    /// Count one job.
    pub fn add(&mut self, f: &KpiFacts, crews_of: &CrewsOf) {
        let p = places(f, self.now);
        self.total.add_places(&p);
        self.customer_jobs += u64::from(super::standard::is_customer_job(f));
        for (by, groups) in &mut self.groups {
            each_group(f, *by, crews_of, |g| {
                groups.entry(g).or_default().add_places(&p)
            });
        }
        // Local days of a fixed offset are 24 h each from the period's first midnight.
        let day = (f.anchor_at.timestamp_millis() - self.start_ms).div_euclid(DAY_MS);
        if let Some(t) = usize::try_from(day)
            .ok()
            .and_then(|d| self.trend.get_mut(d))
        {
            t.add_places(&p);
        }
    }
}
