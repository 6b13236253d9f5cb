//! The KPI engine's storage (issue 13): each job's facts and rule violations, kept by the store
//! itself in the push transaction and when dispatch changes a job, and the targets an admin set.

use super::StoreResult;
use crate::kpi::conformance::Violation;
use crate::kpi::facts::KpiFacts;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

pub trait KpiStore {
    /// Call `f` with the facts of each job anchored in `[from, to)`, as the rows are read (one
    /// range, in anchor order), until it returns `false`. Nothing is kept between calls: a month of
    /// 100,000 jobs is folded in memory that does not grow with the jobs (`kpi::answer`).
    fn each_kpi_fact(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut dyn FnMut(&KpiFacts) -> bool,
    ) -> StoreResult<()>;
    /// The facts of the jobs anchored in `[from, to)`, all in memory (tests and tools; the KPI
    /// answers use [`KpiStore::each_kpi_fact`]).
    fn kpi_facts(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<KpiFacts>> {
        let mut out = Vec::new();
        self.each_kpi_fact(from, to, &mut |f| {
            out.push(f.clone());
            true
        })?;
        Ok(out)
    }
    /// The rules `job_id`'s accepted events broke, in receipt order (empty: conforming).
    fn job_violations(&self, job_id: Uuid) -> StoreResult<Vec<Violation>>;
    /// Which of `job_ids` are non-conforming (one query, for the board).
    fn non_conforming(&self, job_ids: &[Uuid]) -> StoreResult<HashSet<Uuid>>;
    /// Targets an admin set (key → target); figures without one use the default.
    fn kpi_targets(&self) -> StoreResult<BTreeMap<String, f64>>;
    /// Set (or with `None` clear, back to the default) the target of figure `key`.
    fn set_kpi_target(
        &self,
        key: &str,
        target: Option<f64>,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Re-check and re-fold every job (or only those without facts); how many were done.
    fn refresh_kpi_facts(&self, only_missing: bool) -> StoreResult<u64>;
}
