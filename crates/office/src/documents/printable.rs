//! The printable PDFs of a job — its service record and its rectification notices — made from the
//! stored records with the office's embedded Chinese font, and the SHA-256 of each kept with the
//! job (`document_digests`), so a copy downloaded or printed later can be checked against what the
//! office made. The same records give the same bytes, so the same digest.

use crate::feedback::{self, DocumentDigest};
use crate::pdf::PdfFont;
use crate::pdf::notice::{NoticeSource, find_notice, rectification_notice};
use crate::pdf::service_record::{ServiceRecordSource, service_record};
use crate::readback::job_detail;
use crate::store::{OfficeStore, StoreError};
use chrono::{DateTime, Utc};
use heatcrew_protocol::Digest;
use std::path::Path;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    NotFound(String),
    /// No font configured, or it cannot be read (`serve --pdf-font`).
    #[error("the office has no usable PDF font: {0}")]
    Font(String),
    #[error("typesetting the PDF: {0}")]
    Pdf(String),
}

/// A document as made, with its digest and every digest kept for the job so far.
#[derive(Debug, Clone)]
pub struct Printed {
    pub pdf: Vec<u8>,
    pub digest: DocumentDigest,
    pub kept: Vec<DocumentDigest>,
}

/// Which document of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Printable {
    ServiceRecord,
    /// The notice with this number.
    Notice(String),
}

impl Printable {
    pub fn key(&self) -> String {
        match self {
            Printable::ServiceRecord => "service_record".into(),
            Printable::Notice(n) => format!("notice:{n}"),
        }
    }
}

/// Make `what` for `job_id` and keep its digest.
pub fn print(
    store: &dyn OfficeStore,
    font: Option<&Path>,
    job_id: Uuid,
    what: &Printable,
    now: DateTime<Utc>,
) -> Result<Printed, PrintError> {
    let font = font.ok_or_else(|| PrintError::Font("none configured".into()))?;
    let font = PdfFont::load(font).map_err(|e| PrintError::Font(e.to_string()))?;
    let rec = store
        .job(job_id)?
        .ok_or_else(|| PrintError::NotFound(format!("job {job_id} not found")))?;
    let company = crate::api::company::company_profile(store)?;
    let events = store.job_events(job_id)?;
    let users = |id: Uuid| -> Result<(String, String), StoreError> {
        Ok(store
            .user(id)?
            .map(|u| (u.display_name, u.badge_no))
            .unwrap_or_default())
    };
    let record = feedback::record_of(&rec, &events, &users)?;
    let person = |id: Uuid| match users(id) {
        Ok((name, badge)) if !name.is_empty() => format!("{name}（工号 / badge {badge}）"),
        _ => format!("用户 / user {id}"),
    };
    let detail = job_detail(store, rec, now)?;
    let pdf = match what {
        Printable::ServiceRecord => service_record(
            font,
            &ServiceRecordSource {
                company: company.as_ref(),
                detail: &detail,
                feedback: record.as_ref(),
                person: &person,
            },
        ),
        Printable::Notice(number) => {
            let notice = find_notice(&detail, number).ok_or_else(|| {
                PrintError::NotFound(format!("job {job_id} has no notice numbered {number}"))
            })?;
            rectification_notice(
                font,
                &NoticeSource {
                    company: company.as_ref(),
                    detail: &detail,
                    notice,
                    person: &person,
                },
            )
        }
    }
    .map_err(PrintError::Pdf)?;
    let digest = DocumentDigest {
        document: what.key(),
        sha256: Digest::of(&pdf).to_hex(),
        bytes: pdf.len() as u64,
        first_made_at: now,
    };
    let kept = store.keep_document_digest(job_id, &digest)?;
    // The first time this digest was made is what the office keeps.
    let digest = kept
        .iter()
        .find(|d| d.document == digest.document && d.sha256 == digest.sha256)
        .cloned()
        .unwrap_or(digest);
    Ok(Printed { pdf, digest, kept })
}
