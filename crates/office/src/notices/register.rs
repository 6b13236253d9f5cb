//! The register as people read it: each notice with its customer, the findings of the inspection it
//! was issued on, who issued it, its status and how overdue it is. [`notice_views`] is what the
//! console lists; [`NoticeView`] is also what a printed notice is typeset from (issue 13.8): number,
//! customer, findings, requirements, deadline, inspector with badge.

use super::{NoticeOutcome, NoticeRecord, days_overdue, due_at, is_overdue};
use crate::store::{OfficeStore, StoreResult};
use chrono::{DateTime, FixedOffset, Utc};
use heatcrew_protocol::{Customer, EventBody};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// Where a notice stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    /// 整改中: before its deadline has passed.
    Open,
    /// 待复查 (overdue): the deadline has passed and no outcome is recorded yet.
    AwaitingReinspection,
    /// 已整改: closed.
    Complied,
    /// 未整改: escalated.
    NotComplied,
    /// 重新下达: a new notice replaced it.
    NewNotice,
}

impl NoticeStatus {
    pub fn of(n: &NoticeRecord, now: DateTime<Utc>, tz: FixedOffset) -> NoticeStatus {
        match n.outcome {
            Some(NoticeOutcome::Complied) => NoticeStatus::Complied,
            Some(NoticeOutcome::NotComplied) => NoticeStatus::NotComplied,
            Some(NoticeOutcome::NewNotice) => NoticeStatus::NewNotice,
            None if is_overdue(n, now, tz) => NoticeStatus::AwaitingReinspection,
            None => NoticeStatus::Open,
        }
    }
}

/// A person as a notice names them.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct PersonRef {
    pub id: Uuid,
    pub name: String,
    pub badge_no: String,
}

/// One finding of the inspection (违约或窃热行为).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct FindingLine {
    /// `FindingCategory` in snake_case (`unauthorized_connection`, …).
    pub category: String,
    pub description: String,
}

/// A notice in the register.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct NoticeView {
    #[serde(flatten)]
    pub notice: NoticeRecord,
    pub status: NoticeStatus,
    /// The start of the day after the deadline, office time: overdue from then on.
    pub due_at: DateTime<Utc>,
    /// When the re-inspection is opened: `due_at`, or the start of the follow-up day the inspector
    /// set if later.
    pub reinspection_at: DateTime<Utc>,
    pub overdue: bool,
    #[ts(type = "number")]
    pub days_overdue: i64,
    #[schema(value_type = Option<Object>)]
    pub customer: Option<Customer>,
    pub site: Option<String>,
    pub findings: Vec<FindingLine>,
    pub issued_by_person: Option<PersonRef>,
    /// Who re-inspects (chosen, else the issuer).
    pub reinspector_person: Option<PersonRef>,
}

/// Which notices a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, utoipa::ToSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum NoticeFilter {
    #[default]
    All,
    /// No outcome yet (open or awaiting re-inspection).
    Open,
    /// Due, no outcome: the overdue register.
    Overdue,
    /// Falling due within the next 7 days, no outcome.
    DueThisWeek,
}

impl NoticeFilter {
    pub fn keeps(self, v: &NoticeView, now: DateTime<Utc>) -> bool {
        match self {
            NoticeFilter::All => true,
            NoticeFilter::Open => v.notice.outcome.is_none(),
            NoticeFilter::Overdue => v.overdue,
            NoticeFilter::DueThisWeek => {
                v.notice.outcome.is_none() && v.due_at > now && v.due_at <= super::week_after(now)
            }
        }
    }
}

/// Every notice of `records` with its customer, findings and people.
pub fn notice_views(
    store: &dyn OfficeStore,
    records: Vec<NoticeRecord>,
    now: DateTime<Utc>,
    tz: FixedOffset,
) -> StoreResult<Vec<NoticeView>> {
    let users: HashMap<Uuid, PersonRef> = store
        .list_users()?
        .into_iter()
        .map(|u| {
            (
                u.id,
                PersonRef {
                    id: u.id,
                    name: u.display_name,
                    badge_no: u.badge_no,
                },
            )
        })
        .collect();
    let mut job_ids: Vec<Uuid> = records.iter().map(|n| n.job_id).collect();
    job_ids.sort();
    job_ids.dedup();
    let events = store.jobs_events(&job_ids)?;
    let mut views = Vec::with_capacity(records.len());
    for n in records {
        let job = store.job(n.job_id)?.map(|r| r.job);
        let findings = events
            .get(&n.job_id)
            .into_iter()
            .flatten()
            .filter(|e| e.accepted)
            .filter_map(|e| {
                match EventBody::from_parts(&e.event.unsigned.kind, &e.event.unsigned.payload) {
                    Ok(EventBody::FindingRecorded {
                        category,
                        description,
                        ..
                    }) => Some(FindingLine {
                        category: serde_json::to_value(category)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        description,
                    }),
                    _ => None,
                }
            })
            .collect();
        views.push(NoticeView {
            status: NoticeStatus::of(&n, now, tz),
            due_at: due_at(n.deadline, tz),
            reinspection_at: super::reinspection_at(&n, tz),
            overdue: is_overdue(&n, now, tz),
            days_overdue: days_overdue(&n, now, tz),
            customer: job.as_ref().and_then(|j| j.customer.clone()),
            site: job.as_ref().and_then(|j| j.site.clone()),
            findings,
            issued_by_person: users.get(&n.issued_by).cloned(),
            reinspector_person: users.get(&n.reinspector.unwrap_or(n.issued_by)).cloned(),
            notice: n,
        });
    }
    Ok(views)
}

/// One notice as the printed notice (issue 13.8) and the console's detail need it.
pub fn notice_view(
    store: &dyn OfficeStore,
    id: Uuid,
    now: DateTime<Utc>,
    tz: FixedOffset,
) -> StoreResult<Option<NoticeView>> {
    let Some(n) = store.notice(id)? else {
        return Ok(None);
    };
    Ok(notice_views(store, vec![n], now, tz)?.pop())
}
