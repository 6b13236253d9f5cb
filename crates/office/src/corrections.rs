//! Corrections on the console's job page: each `correction` record beside the record it names,
//! so the office reads both — what was recorded first and what the technician corrected, why, and
//! when. Nothing is replaced: the original stays in the timeline and in the device's chain.

use crate::job_view::TimelineEntry;
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

/// A correction and the record it corrects.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct CorrectionPair {
    /// The correction as recorded: its payload holds `corrects`, `reason` and `replacement`
    /// (refused ones too, with the office's reason: a correction of the rating is `rating_locked`).
    pub correction: TimelineEntry,
    /// The record it names, as first recorded; `None` if the office holds no such record.
    pub original: Option<TimelineEntry>,
}

/// Every correction on the timeline, oldest first, each with its original.
pub fn pairs(timeline: &[TimelineEntry]) -> Vec<CorrectionPair> {
    let by_id: HashMap<Uuid, &TimelineEntry> = timeline.iter().map(|t| (t.event_id, t)).collect();
    timeline
        .iter()
        .filter(|t| t.kind == "correction")
        .map(|t| {
            let corrects = t
                .payload
                .get("corrects")
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse::<Uuid>().ok());
            CorrectionPair {
                correction: t.clone(),
                original: corrects.and_then(|id| by_id.get(&id)).map(|o| (*o).clone()),
            }
        })
        .collect()
}
