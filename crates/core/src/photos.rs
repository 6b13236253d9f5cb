//! Photos and signatures into the device's file store, through the media pipeline: decoded within
//! limits, turned upright, downscaled, stripped of metadata (capture time and GPS kept as evidence
//! in the event), hashed, and written durably before any event may refer to them.

use crate::error::{CoreError, Result};
use crate::store::Store;
use chrono::{Local, TimeZone, Utc};
use heatcrew_media::{
    PhotoOptions, PreparedPhoto, SignatureOptions, prepare_photo, prepare_signature,
};
use heatcrew_protocol::{AttachmentRef, Digest, Position};
use heatcrew_rules::RuleError;
use rusqlite::OptionalExtension;
use uuid::Uuid;

impl Store {
    /// Run a camera photo through the pipeline and store it (and its thumbnail). Records nothing:
    /// the caller records the event that refers to the returned attachment.
    pub fn ingest_photo(&self, bytes: &[u8]) -> Result<AttachmentRef> {
        let p = prepare_photo(bytes, &PhotoOptions::default())?;
        let sha = self.files().put(&p.jpeg)?;
        self.files().put_thumbnail(&sha, &p.thumbnail)?;
        Ok(attachment_of(&p, sha))
    }

    /// Check and store a signature drawn on the screen (refused when empty).
    pub fn ingest_signature(&self, png: &[u8]) -> Result<AttachmentRef> {
        let s = prepare_signature(png, &SignatureOptions::default())?;
        let sha = self.files().put(&s.png)?;
        Ok(AttachmentRef {
            sha256: sha,
            bytes: s.png.len() as u64,
            mime: "image/png".into(),
            width: s.width,
            height: s.height,
            taken_at: None,
            gps: None,
        })
    }

    /// A small image for lists: the photo's thumbnail, or the file itself (signatures are small).
    /// On a shared phone another user's photo or signature is refused (`NotYourJob`), as their job
    /// is; a file no record names yet (a photo being taken) is the signed-in user's.
    pub fn thumbnail(&self, sha: &Digest) -> Result<Vec<u8>> {
        let job: Option<String> = self
            .connection()
            .prepare_cached(
                "SELECT e.job_id FROM attachments a JOIN events e ON e.seq = a.first_seq
                 WHERE a.sha256 = ?1",
            )?
            .query_row([sha.to_hex()], |r| r.get(0))
            .optional()?;
        if let Some(job) = job.and_then(|j| Uuid::parse_str(&j).ok())
            && let Err(e @ CoreError::Rule(RuleError::NotYourJob(_))) = self.check_theirs(job)
        {
            return Err(e);
        }
        match self.files().read_thumbnail(sha) {
            Ok(bytes) => Ok(bytes),
            Err(_) => Ok(self.files().read(sha)?),
        }
    }
}

/// The reference an event carries for a prepared photo stored as `sha`.
pub(crate) fn attachment_of(p: &PreparedPhoto, sha: Digest) -> AttachmentRef {
    // A camera without a time zone in EXIF wrote the phone's local time. A camera whose clock
    // was never set (EXIF 1980, say) gives no capture time rather than a photo the range check
    // (heatcrew_protocol::bounds) would refuse.
    let taken_at = p
        .taken_at
        .and_then(|t| {
            t.to_utc().or_else(|| {
                Local
                    .from_local_datetime(&t.local)
                    .single()
                    .map(|l| l.with_timezone(&Utc))
            })
        })
        .filter(|t| heatcrew_protocol::bounds::check_time("taken_at", *t).is_ok());
    AttachmentRef {
        sha256: sha,
        bytes: p.jpeg.len() as u64,
        mime: "image/jpeg".into(),
        width: p.width,
        height: p.height,
        taken_at,
        gps: p.gps.map(|g| Position {
            lat: Some(g.lat),
            lon: Some(g.lon),
            description: String::new(),
            ..Default::default()
        }),
    }
}
