//! Office exports (`docs/evidence.md`, "Export files"): JSON lines that stand alone. For each device
//! in scope: its enrolled key and chain tip, its chain from event 1 to the tip (events in scope whole,
//! the others as links), the office's receipt for each event in scope with an inclusion proof
//! against the current signed tree head, and, when asked, consistency proofs from earlier tree heads
//! (for example one a device holds) to the current one, and every sign-in on the device as the
//! device signed it (whose records its events are; format 2).
//!
//! `heatcrew-office export` and `GET /api/v1/export` write it; `heatcrew-office verify-export`
//! checks it (alone or with device exports) with [`heatcrew_protocol::export::verify_exports`].

use crate::evidence::latest_tree_head;
use crate::store::{OfficeStore, StoreError, StoreResult, StoredEvent};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use heatcrew_protocol::ChainTip;
use heatcrew_protocol::export::{EXPORT_FORMAT_V3, ExportLine, ExportSource};
use heatcrew_protocol::log::{ConsistencyProof, InclusionProof, Receipt};
use serde::Deserialize;
use uuid::Uuid;

/// What to export. Filters combine; none exports every device whole.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ExportScope {
    /// Only this device.
    #[serde(default)]
    pub device: Option<Uuid>,
    /// Only this job's events whole (the devices' other events as links).
    #[serde(default)]
    pub job: Option<Uuid>,
    /// Only events the office received at or after this time (RFC 3339).
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    /// Only events the office received before this time (RFC 3339).
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
    /// Add a consistency proof from the tree head of this size (e.g. one a device holds) to the
    /// current one.
    #[serde(default)]
    pub consistency_from: Option<u64>,
}

impl ExportScope {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(d) = self.device {
            parts.push(format!("device {d}"));
        }
        if let Some(j) = self.job {
            parts.push(format!("job {j}"));
        }
        if self.from.is_some() || self.to.is_some() {
            let t = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
            parts.push(format!("received {}..{}", t(self.from), t(self.to)));
        }
        if parts.is_empty() {
            "all devices".into()
        } else {
            parts.join(", ")
        }
    }

    fn filters_events(&self) -> bool {
        self.job.is_some() || self.from.is_some() || self.to.is_some()
    }

    fn includes(&self, e: &StoredEvent) -> bool {
        self.job.is_none_or(|j| e.event.unsigned.job_id == j)
            && self.from.is_none_or(|t| e.received_at >= t)
            && self.to.is_none_or(|t| e.received_at < t)
    }
}

/// Build the export lines for `scope`, signing the current tree head (kept, as for a pull) and
/// the receipts (the same ones the devices got) with `office`.
pub fn export(
    store: &dyn OfficeStore,
    office: &SigningKey,
    scope: &ExportScope,
    now: DateTime<Utc>,
) -> StoreResult<Vec<ExportLine>> {
    let head = latest_tree_head(store, office, now)?;
    let mut lines = vec![ExportLine::Header {
        format: EXPORT_FORMAT_V3.into(),
        source: ExportSource::Office,
        exported_at: now,
        scope: scope.describe(),
        office_public_key: Some(hex::encode(office.verifying_key().as_bytes())),
    }];
    lines.push(ExportLine::TreeHead { tree_head: head });
    if let Some(first) = scope.consistency_from.filter(|f| *f > 0 && *f <= head.size) {
        if let Some(older) = store.tree_head(first)? {
            lines.push(ExportLine::TreeHead { tree_head: older });
        }
        let path = store.consistency_proof(first, head.size)?.ok_or_else(|| {
            StoreError::Corrupt(format!("no consistency proof {first} → {}", head.size))
        })?;
        lines.push(ExportLine::Consistency {
            proof: ConsistencyProof {
                first,
                second: head.size,
                path,
            },
        });
    }
    let devices = match (scope.device, scope.job) {
        (Some(id), _) => vec![
            store
                .device(id)?
                .ok_or_else(|| StoreError::not_found(format!("device {id}")))?,
        ],
        // Only the devices that recorded on the job (by the job's index), not every chain.
        (None, Some(job)) => {
            let ids: std::collections::BTreeSet<Uuid> = store
                .job_events(job)?
                .iter()
                .map(|e| e.event.unsigned.device_id)
                .collect();
            let mut devices = Vec::with_capacity(ids.len());
            for id in ids {
                devices.extend(store.device(id)?);
            }
            devices
        }
        (None, None) => store.list_devices()?,
    };
    for dev in devices {
        let events = store.device_events(dev.id)?;
        let in_scope: Vec<bool> = events.iter().map(|e| scope.includes(e)).collect();
        if scope.filters_events() && !in_scope.contains(&true) {
            continue;
        }
        let tip = store.device_tip(dev.id)?.unwrap_or(ChainTip::START);
        lines.push(ExportLine::Device {
            device_id: dev.id,
            public_key: dev.public_key.clone(),
            tip,
        });
        let mut evidence = Vec::new();
        for (stored, whole) in events.into_iter().zip(in_scope) {
            let e = stored.event;
            if !whole {
                lines.push(ExportLine::Link {
                    device_seq: e.seq(),
                    prev_hash: e.unsigned.prev_hash,
                    hash: e.hash,
                    sig: e.sig,
                });
                continue;
            }
            if let Some(entry) = store.log_entry_of(dev.id, e.seq())? {
                let receipt = Receipt::sign(office, &entry.leaf, entry.index, entry.received_at);
                evidence.push(ExportLine::Receipt { receipt });
                if entry.index < head.size {
                    let path = store
                        .inclusion_proof(entry.index, head.size)?
                        .ok_or_else(|| {
                            StoreError::Corrupt(format!(
                                "no inclusion proof for log index {}",
                                entry.index
                            ))
                        })?;
                    evidence.push(ExportLine::Inclusion {
                        proof: InclusionProof {
                            index: entry.index,
                            size: head.size,
                            path,
                        },
                    });
                }
            }
            lines.push(ExportLine::Event { event: e });
        }
        lines.extend(evidence);
        lines.extend(sign_in_lines(store, office, dev.id)?);
    }
    Ok(lines)
}

/// Every sign-in on the device that named its chain, in sign-in order, as the device signed it:
/// whose records its events are (all of them, so that none of the events shown can be credited to
/// an earlier user by leaving a later sign-in out); then every sign-out kept, with the office's
/// signature that it keeps it (where those records end). Sign-ins from before chain heads were
/// signed carry no statement and are left out.
fn sign_in_lines(
    store: &dyn OfficeStore,
    office: &SigningKey,
    device_id: Uuid,
) -> StoreResult<Vec<ExportLine>> {
    let mut lines = Vec::new();
    let mut sign_outs = Vec::new();
    let not_hex = || {
        StoreError::Corrupt(format!(
            "device {device_id}: a stored sign-in's or sign-out's challenge or proof is not hex"
        ))
    };
    for s in store.sign_ins_of_device(device_id)? {
        let Some(signed) = s.signed else { continue };
        if let Some(out) = s.signed_out {
            let office_sig = crate::sign_out::acknowledge(office, device_id, &out);
            let line = ExportLine::sign_out(
                device_id,
                s.username.clone(),
                out.head,
                (&out.challenge, &out.proof),
                Some(office_sig.as_deref().ok_or_else(not_hex)?),
            )
            .ok_or_else(not_hex)?;
            sign_outs.push(line);
        }
        // Lowercased: logins took an upper-case proof until 5 December 2026 (same bytes).
        let line = ExportLine::sign_in(
            device_id,
            s.username,
            signed.head,
            &signed.challenge.to_ascii_lowercase(),
            &signed.proof.to_ascii_lowercase(),
        )
        .ok_or_else(not_hex)?;
        lines.push(line);
    }
    lines.extend(sign_outs);
    Ok(lines)
}

/// Write lines as JSON lines.
pub fn write_lines(lines: &[ExportLine], mut out: impl std::io::Write) -> std::io::Result<()> {
    for line in lines {
        serde_json::to_writer(&mut out, line)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
