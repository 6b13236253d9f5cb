//! Photos still being processed and the actions held behind them, as the visit screens show them
//! (see `crate::store::intake`). The job view is built on the job as it will stand once its queue
//! is recorded, so the technician moves on; this names what is not recorded yet.

use super::types::JobView;
use crate::store::{HeldRow, HeldState};
use heatcrew_protocol::{Digest, EventBody};
use heatcrew_rules::Localized;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use ts_rs::TS;

/// A photo taken and not yet recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ProcessingPhotoView {
    /// Its place in the job's queue (`retake` names it).
    #[ts(type = "number")]
    pub id: i64,
    /// The step it was taken for.
    pub step: String,
    pub state: ProcessingState,
    /// Why it could not be processed (`failed`): take it again.
    pub error: Option<Localized>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ProcessingState {
    /// Being made small, upright and stripped; recorded as soon as it is done.
    Processing,
    /// Could not be processed; the records after it wait until it is taken again.
    Failed,
}

/// Fill in the queue: processing photos listed (and kept out of `steps[].photos`, which hold only
/// recorded files), held actions counted.
pub fn show(view: &mut JobView, held: &[HeldRow]) {
    let mut captures: HashSet<Digest> = HashSet::new();
    for row in held {
        match &row.body {
            EventBody::PhotoAdded { step, photo, .. } if row.capture.is_some() => {
                captures.insert(photo.sha256);
                view.processing_photos.push(ProcessingPhotoView {
                    id: row.id,
                    step: step.clone(),
                    state: if row.state == HeldState::Failed {
                        ProcessingState::Failed
                    } else {
                        ProcessingState::Processing
                    },
                    error: row.error.clone(),
                });
            }
            _ => view.held_records += 1,
        }
    }
    if captures.is_empty() {
        return;
    }
    for step in &mut view.steps {
        step.photos.retain(|p| !captures.contains(&p.sha256));
    }
}
