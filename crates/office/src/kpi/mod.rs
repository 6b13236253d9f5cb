//! The service standard at the office (issue 13 points 1–3): the office re-checks the checklist
//! rules on every pushed event ([`conformance`]), corrects every event's time with the device's
//! clock offset when it was recorded ([`time`]), keeps one row of facts per job ([`facts`],
//! updated in the push transaction) and answers the KPIs of any period from those rows
//! ([`figures`]), per crew, person or job kind, with a daily trend and the jobs behind a figure.

pub mod conformance;
pub mod facts;
pub mod figures;
pub mod fold;
pub mod standard;
pub use heatcrew_rules::time;

use crate::store::{OfficeStore, StoreResult};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use facts::KpiFacts;
use figures::{Figure, Place, classify};
use fold::{CrewsOf, Fold, GroupKey};
use heatcrew_protocol::{JobKind, Resolution};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use uuid::Uuid;

/// The longest period one answer covers (a year and a day).
pub const MAX_DAYS: i64 = 366;
/// Jobs one drill-down lists at most (those not in B first).
pub const DRILL_LIMIT: usize = 500;

/// How the figures are broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    #[default]
    None,
    Crew,
    Person,
    Kind,
}

/// Which jobs: a period of local days and optional filters.
#[derive(Debug, Clone)]
pub struct KpiQuery {
    /// First and last local day (inclusive).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The local days' UTC offset in minutes (China: 480).
    pub utc_offset_minutes: i32,
    pub group: GroupBy,
    pub kind: Option<JobKind>,
    pub crew: Option<Uuid>,
    pub person: Option<Uuid>,
}

impl KpiQuery {
    /// The period's UTC bounds `[start, end)`, or `None` for an impossible or too long period.
    pub fn bounds(&self) -> Option<(FixedOffset, DateTime<Utc>, DateTime<Utc>)> {
        if self.to < self.from || (self.to - self.from).num_days() >= MAX_DAYS {
            return None;
        }
        let tz = FixedOffset::east_opt(self.utc_offset_minutes.checked_mul(60)?)?;
        let (start, _) = crate::board::day_bounds(self.from, self.utc_offset_minutes)?;
        let (_, end) = crate::board::day_bounds(self.to, self.utc_offset_minutes)?;
        Some((tz, start, end))
    }
}

/// The figures of one group (a crew, a person, a job kind).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct KpiGroup {
    pub key: String,
    pub label: String,
    pub figures: Vec<Figure>,
}

/// The figures of one local day (the jobs anchored on it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct TrendDay {
    pub date: NaiveDate,
    pub figures: Vec<Figure>,
}

/// The KPIs of a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct KpiAnswer {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The office clock the figures were computed at (a repair's 4 hours may still be running).
    pub now: DateTime<Utc>,
    pub figures: Vec<Figure>,
    pub groups: Vec<KpiGroup>,
    pub trend: Vec<TrendDay>,
}

/// A job behind a figure.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct KpiJob {
    pub job_id: Uuid,
    pub title: String,
    #[schema(value_type = String)]
    #[ts(type = "string")]
    pub kind: JobKind,
    pub person: Option<Uuid>,
    pub person_name: Option<String>,
    pub anchor_at: DateTime<Utc>,
    pub reported_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// `resolved`, `follow_up_needed`, `no_entry`; `null` while open.
    pub resolution: Option<String>,
    pub rating: Option<u8>,
    pub conforming: bool,
    /// In B (counts for the figure); else in A only (counts against it).
    pub in_numerator: bool,
}

/// Who is who, for the groups and the filters.
struct People {
    names: HashMap<Uuid, String>,
    crews_of: CrewsOf,
    crew_names: BTreeMap<Uuid, String>,
}

fn people(store: &dyn OfficeStore) -> StoreResult<People> {
    let names = store
        .list_users()?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let mut crews_of: CrewsOf = HashMap::new();
    let mut crew_names = BTreeMap::new();
    for c in store.list_crews()? {
        for m in &c.members {
            crews_of.entry(*m).or_default().push(c.id);
        }
        crew_names.insert(c.id, c.name);
    }
    Ok(People {
        names,
        crews_of,
        crew_names,
    })
}

impl People {
    fn in_crew(&self, f: &KpiFacts, crew: Uuid) -> bool {
        f.person
            .and_then(|p| self.crews_of.get(&p))
            .is_some_and(|c| c.contains(&crew))
    }

    /// A group's key and label as the answer shows them.
    fn label(&self, g: GroupKey) -> (String, String) {
        match g {
            GroupKey::Nobody => ("none".to_owned(), "—".to_owned()),
            GroupKey::Kind(k) => (k.to_owned(), k.to_owned()),
            GroupKey::Person(p) => (
                p.to_string(),
                self.names.get(&p).cloned().unwrap_or_else(|| p.to_string()),
            ),
            GroupKey::Crew(c) => (
                c.to_string(),
                self.crew_names.get(&c).cloned().unwrap_or_default(),
            ),
        }
    }
}

/// Whether a fact passes the query's filters.
fn wanted(q: &KpiQuery, people: &People, f: &KpiFacts) -> bool {
    q.kind.is_none_or(|k| f.kind == k)
        && q.person.is_none_or(|p| f.person == Some(p))
        && q.crew.is_none_or(|c| people.in_crew(f, c))
}

/// The targets in force: the stored ones over the defaults.
pub fn targets(store: &dyn OfficeStore) -> StoreResult<BTreeMap<String, f64>> {
    let mut out: BTreeMap<String, f64> = figures::JOB_FIGURES
        .iter()
        .chain(standard::OFFICE_FIGURES)
        .filter_map(|k| figures::default_target(k).map(|t| (k.to_string(), t)))
        .collect();
    out.extend(store.kpi_targets()?);
    Ok(out)
}

/// The KPIs of `q` at `now`; `None` for an impossible period (`to` before `from`, over a year).
pub fn answer(
    store: &dyn OfficeStore,
    q: &KpiQuery,
    now: DateTime<Utc>,
) -> StoreResult<Option<KpiAnswer>> {
    Ok(answers(store, q, &[q.group], now)?.and_then(|a| a.into_iter().next()))
}

/// The KPIs of `q` at `now` broken down each way of `by` (one answer per entry, `q.group` unused),
/// counted in one pass over the period's facts as the store reads them ([`fold`]): the monthly
/// workbook's crew, person and kind sheets read the month once, and no answer keeps the jobs.
/// `None` for an impossible period.
pub fn answers(
    store: &dyn OfficeStore,
    q: &KpiQuery,
    by: &[GroupBy],
    now: DateTime<Utc>,
) -> StoreResult<Option<Vec<KpiAnswer>>> {
    let Some((tz, start, end)) = q.bounds() else {
        return Ok(None);
    };
    let people = people(store)?;
    let days = (q.to - q.from).num_days() + 1;
    let mut fold = Fold::new(start, days as usize, by, now);
    store.each_kpi_fact(start, end, &mut |f| {
        if wanted(q, &people, f) {
            fold.add(f, &people.crews_of);
        }
        true
    })?;
    let targets = targets(store)?;
    let target = |k: &str| targets.get(k).copied();
    let mut office = Vec::new();
    // The company's own figures (complaints, notices, patrols) belong to no crew, person or kind.
    if q.kind.is_none() && q.crew.is_none() && q.person.is_none() {
        let s = standard::sources(store, q.from, q.to, tz, start, end, now, fold.customer_jobs)?;
        office = standard::figures(&s, target);
    }
    let figures: Vec<Figure> = fold
        .total
        .figures(target)
        .into_iter()
        .chain(office)
        .collect();
    let trend: Vec<TrendDay> = fold
        .trend
        .iter()
        .enumerate()
        .map(|(i, t)| TrendDay {
            date: q.from + Duration::days(i as i64),
            figures: t.figures(target),
        })
        .collect();
    Ok(Some(
        fold.groups
            .into_iter()
            .map(|(_, tallies)| {
                let mut groups: Vec<KpiGroup> = tallies
                    .into_iter()
                    .map(|(g, t)| {
                        let (key, label) = people.label(g);
                        KpiGroup {
                            key,
                            label,
                            figures: t.figures(target),
                        }
                    })
                    .collect();
                groups.sort_by(|a, b| a.label.cmp(&b.label).then_with(|| a.key.cmp(&b.key)));
                KpiAnswer {
                    from: q.from,
                    to: q.to,
                    now,
                    figures: figures.clone(),
                    groups,
                    trend: trend.clone(),
                }
            })
            .collect(),
    ))
}

/// A job kept for a drill-down: ordered as listed (not in B first, then by time, then as read).
struct Listed {
    in_numerator: bool,
    anchor_at: DateTime<Utc>,
    seq: u64,
    job: KpiJob,
}

impl Listed {
    fn order(&self) -> (bool, DateTime<Utc>, u64) {
        (self.in_numerator, self.anchor_at, self.seq)
    }
}

impl PartialEq for Listed {
    fn eq(&self, o: &Listed) -> bool {
        self.order() == o.order()
    }
}
impl Eq for Listed {}
impl PartialOrd for Listed {
    fn partial_cmp(&self, o: &Listed) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Listed {
    fn cmp(&self, o: &Listed) -> std::cmp::Ordering {
        self.order().cmp(&o.order())
    }
}

/// The jobs in A of figure `key` for `q` (those not in B first, then by time), at most
/// [`DRILL_LIMIT`]; `None` for an impossible period. The facts are classified as they are read and
/// only the first [`DRILL_LIMIT`] in that order are kept (a heap whose last is dropped).
pub fn drill(
    store: &dyn OfficeStore,
    q: &KpiQuery,
    key: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<Vec<KpiJob>>> {
    let Some((_, start, end)) = q.bounds() else {
        return Ok(None);
    };
    let people = people(store)?;
    let mut kept: BinaryHeap<Listed> = BinaryHeap::new();
    let mut seq = 0u64;
    store.each_kpi_fact(start, end, &mut |f| {
        if !wanted(q, &people, f) {
            return true;
        }
        let Place::In { b } = classify(key, f, now) else {
            return true;
        };
        // For the mean, "in B" is a rating of 4 or 5 stars, as for the share.
        let in_numerator = if key == figures::SATISFACTION_MEAN {
            b >= 4
        } else {
            b > 0
        };
        seq += 1;
        let order = (in_numerator, f.anchor_at, seq);
        if kept.len() >= DRILL_LIMIT && kept.peek().is_some_and(|last| last.order() <= order) {
            return true;
        }
        kept.push(Listed {
            in_numerator,
            anchor_at: f.anchor_at,
            seq,
            job: KpiJob {
                job_id: f.job_id,
                title: f.title.clone(),
                kind: f.kind,
                person: f.person,
                person_name: f.person.and_then(|p| people.names.get(&p).cloned()),
                anchor_at: f.anchor_at,
                reported_at: f.reported_at,
                arrived_at: f.arrived_at,
                closed_at: f.closed_at,
                resolution: f.resolution.map(|r| resolution_str(r).to_owned()),
                rating: f.rating,
                conforming: f.conforming,
                in_numerator,
            },
        });
        if kept.len() > DRILL_LIMIT {
            kept.pop();
        }
        true
    })?;
    Ok(Some(
        kept.into_sorted_vec().into_iter().map(|l| l.job).collect(),
    ))
}

pub fn resolution_str(r: Resolution) -> &'static str {
    match r {
        Resolution::Resolved => "resolved",
        Resolution::FollowUpNeeded => "follow_up_needed",
        Resolution::NoEntry => "no_entry",
    }
}

pub fn parse_resolution(s: &str) -> Option<Resolution> {
    match s {
        "resolved" => Some(Resolution::Resolved),
        "follow_up_needed" => Some(Resolution::FollowUpNeeded),
        "no_entry" => Some(Resolution::NoEntry),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
