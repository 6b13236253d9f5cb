//! The evidence bundle's PDF summary (`summary.pdf`): a job as a person reads it — the job and
//! customer, who did the work (name and badge), every record in order with the device's clock, the
//! office-corrected clock and the standard phrase, the photos (hash, capture time, GPS, a
//! thumbnail), the signature or the recorded refusal/absence with reason and witness, the rating,
//! the chain status and how to verify. A convenience view: the JSON lines are the evidence.
//!
//! Made from the console's job page ([`ConsoleJob`]) minus everything that depends on when it is
//! printed (SLA countdowns), so the same records always print the same bytes.

use super::{BODY, Layout, PdfFont, SMALL, Tone};
use crate::job_view::{ChainState, ConsoleJob, TimelineEntry};
use chrono::{DateTime, FixedOffset, Utc};
use heatcrew_protocol::{AttachmentRef, DeclineKind, Digest, EventBody, Signer};
use std::collections::BTreeSet;

/// The long side of a printed thumbnail, in pixels (about 2.5 cm at 200 dpi).
const THUMB_PX: u32 = 200;
/// The thumbnail's box on the page, in points.
const THUMB_BOX: f32 = 96.0;

/// China Standard Time: how the company reads a clock.
fn cst(t: DateTime<Utc>) -> String {
    let tz = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is valid");
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string()
}

fn position(p: &heatcrew_protocol::Position) -> String {
    match (p.lat, p.lon) {
        (Some(lat), Some(lon)) if p.description.is_empty() => format!("{lat:.6}, {lon:.6}"),
        (Some(lat), Some(lon)) => format!("{lat:.6}, {lon:.6} ({})", p.description),
        _ => p.description.clone(),
    }
}

/// A small JPEG of a stored photo or signature, made with the field app's own photo pipeline
/// (so any image the office accepted prints); `None` when the bytes are not a picture.
fn thumbnail(bytes: &[u8]) -> Option<Vec<u8>> {
    let opts = heatcrew_media::PhotoOptions {
        max_long_side: THUMB_PX,
        thumb_long_side: 16,
        quality: 70,
        ..Default::default()
    };
    heatcrew_media::prepare_photo(bytes, &opts)
        .ok()
        .map(|p| p.jpeg)
}

fn body_of(e: &TimelineEntry) -> Option<EventBody> {
    let kind = &e.kind;
    EventBody::from_parts(kind, &e.payload).ok()
}

fn who(e: &TimelineEntry) -> String {
    if e.user_name.is_empty() {
        format!("用户 / user {}", e.user_id)
    } else {
        format!("{} (工号 / badge {})", e.user_name, e.user_badge)
    }
}

/// The summary of `job`; `file` gives the bytes of an attachment the office holds.
pub fn evidence_summary(
    font: PdfFont,
    job: &ConsoleJob,
    file: &dyn Fn(&Digest) -> Option<Vec<u8>>,
) -> Result<Vec<u8>, String> {
    let j = &job.detail.job;
    let mut doc = Layout::new(
        font,
        &format!("证据摘要 / Evidence summary: {}", j.title),
        &format!("HeatCrew 工单 / job {}", j.id),
    );
    doc.title("上门服务证据摘要 / Evidence summary");
    doc.text(
        "本摘要为便于阅读的视图，证据以 evidence.jsonl 及其签名为准（核验方法见末页与 README.txt）。\
         This summary is a convenience view: the evidence is evidence.jsonl and its signatures \
         (how to verify: last section and README.txt). Times are China Standard Time (UTC+8).",
        BODY,
        Tone::Quiet,
    );

    doc.heading("工单 / Job");
    doc.field("工单 / Job", &j.title, Tone::Normal);
    doc.field("编号 / Job id", &j.id.to_string(), Tone::Normal);
    doc.field(
        "类型 / Kind",
        &format!("{:?} · {} v{}", j.kind, j.template.id, j.template.version),
        Tone::Normal,
    );
    if let Some(at) = j.reported_at {
        doc.field("报修时间 / Reported", &cst(at), Tone::Normal);
    }
    if let Some(w) = &j.window {
        doc.field(
            "预约 / Appointment",
            &format!("{} – {}", cst(w.start), cst(w.end)),
            Tone::Normal,
        );
    }
    doc.field("状态 / Status", &format!("{:?}", j.status), Tone::Normal);
    if let Some(reason) = &job.detail.cancel_reason {
        doc.field("取消原因 / Cancelled", reason, Tone::Normal);
    }

    doc.heading("客户 / Customer");
    match &j.customer {
        Some(c) => {
            doc.field("姓名 / Name", &c.name, Tone::Normal);
            doc.field("电话 / Phone", &c.phone, Tone::Normal);
            doc.field("地址 / Address", &c.address, Tone::Normal);
            if !c.account_no.is_empty() {
                doc.field("用户编号 / Account", &c.account_no, Tone::Normal);
            }
        }
        None => doc.field(
            "地点 / Site",
            j.site.as_deref().unwrap_or("—"),
            Tone::Normal,
        ),
    }

    doc.heading("外勤人员 / Crew");
    if let (Some(name), Some(badge)) = (&job.status.assignee_name, &job.status.assignee_badge) {
        doc.field(
            "派给 / Assigned to",
            &format!("{name} (工号 / badge {badge})"),
            Tone::Normal,
        );
    }
    let recorders: BTreeSet<String> = job.timeline.iter().map(who).collect();
    for r in &recorders {
        doc.field("记录人 / Recorded by", r, Tone::Normal);
    }

    timeline(&mut doc, job);
    photos(&mut doc, job, file);
    signatures(&mut doc, job, file);
    ratings(&mut doc, job);
    chains(&mut doc, job);
    how_to_verify(&mut doc);
    doc.finish()
}

fn timeline(doc: &mut Layout, job: &ConsoleJob) {
    doc.heading("过程记录 / Timeline");
    if job.timeline.is_empty() {
        doc.text("尚无现场记录。/ No field records yet.", BODY, Tone::Quiet);
    }
    for (n, e) in job.timeline.iter().enumerate() {
        doc.keep(4.0 * BODY * 1.45);
        doc.field(
            &format!("{}. {}", n + 1, cst(e.corrected_at)),
            &format!("{} / {}", e.title.zh, e.title.en),
            Tone::Normal,
        );
        doc.field(
            "",
            &format!(
                "设备时间 / device time {} · 校正时间 / office-corrected {} · {} · seq {}",
                cst(e.recorded_at),
                cst(e.corrected_at),
                who(e),
                e.device_seq
            ),
            Tone::Quiet,
        );
        if let Some(p) = &e.phrase {
            doc.field(
                "",
                &format!("服务用语 / phrase: 「{}」 {}", p.zh, p.en),
                Tone::Normal,
            );
        }
        if !e.accepted {
            doc.field(
                "",
                &format!(
                    "办公室未采纳 / not accepted by the office: {}",
                    e.reject_reason.as_deref().unwrap_or("")
                ),
                Tone::Alarm,
            );
        }
        doc.space(2.0);
    }
}

fn step_title(job: &ConsoleJob, step: &str) -> String {
    job.steps
        .iter()
        .find(|s| s.id == step)
        .map(|s| format!("{} / {}", s.title.zh, s.title.en))
        .unwrap_or_else(|| step.to_owned())
}

fn attachment_lines(a: &AttachmentRef, held: bool) -> Vec<(String, Tone)> {
    let mut lines = vec![(format!("SHA-256 {}", a.sha256.to_hex()), Tone::Quiet)];
    lines.push((
        format!(
            "拍摄时间 / captured: {}",
            a.taken_at.map(cst).unwrap_or_else(|| "—".into())
        ),
        Tone::Normal,
    ));
    lines.push((
        format!(
            "GPS: {}",
            a.gps.as_ref().map(position).unwrap_or_else(|| "—".into())
        ),
        Tone::Normal,
    ));
    if !held {
        lines.push((
            "办公室尚未收到此文件 / the office has not received this file".into(),
            Tone::Alarm,
        ));
    }
    lines
}

fn photos(doc: &mut Layout, job: &ConsoleJob, file: &dyn Fn(&Digest) -> Option<Vec<u8>>) {
    doc.heading("照片 / Photos");
    let mut any = false;
    for e in job.timeline.iter().filter(|e| e.accepted) {
        let Some(EventBody::PhotoAdded {
            step,
            photo,
            caption,
        }) = body_of(e)
        else {
            continue;
        };
        any = true;
        let bytes = file(&photo.sha256);
        let mut lines = vec![(
            format!("{} · {}", step_title(job, &step), caption),
            Tone::Normal,
        )];
        lines.extend(attachment_lines(&photo, bytes.is_some()));
        doc.picture_with_text(bytes.as_deref().and_then(thumbnail), THUMB_BOX, &lines);
    }
    if !any {
        doc.text("无照片。/ No photos.", BODY, Tone::Quiet);
    }
}

fn signatures(doc: &mut Layout, job: &ConsoleJob, file: &dyn Fn(&Digest) -> Option<Vec<u8>>) {
    doc.heading("签字 / Signature");
    let mut any = false;
    for e in job.timeline.iter().filter(|e| e.accepted) {
        match body_of(e) {
            Some(EventBody::SignatureCaptured {
                signer,
                signer_name,
                image,
                ..
            }) => {
                any = true;
                let role = match signer {
                    Signer::Customer => "客户 / customer",
                    Signer::Witness => "见证人 / witness",
                    Signer::Technician => "维修人员 / technician",
                    Signer::Contractor => "施工单位 / contractor",
                };
                let bytes = file(&image.sha256);
                let lines = vec![
                    (format!("{signer_name} · {role}"), Tone::Normal),
                    (
                        format!("签字时间 / signed: {}", cst(e.corrected_at)),
                        Tone::Normal,
                    ),
                    (format!("SHA-256 {}", image.sha256.to_hex()), Tone::Quiet),
                ];
                doc.picture_with_text(bytes.as_deref().and_then(thumbnail), THUMB_BOX, &lines);
            }
            Some(EventBody::SignatureDeclined {
                outcome,
                reason,
                witness,
                ..
            }) => {
                any = true;
                let what = match outcome {
                    DeclineKind::Refused => "客户拒绝签字 / the customer refused to sign",
                    DeclineKind::Absent => "客户不在场 / the customer was absent",
                };
                doc.field("未签字 / No signature", what, Tone::Alarm);
                doc.field("原因 / Reason", &reason, Tone::Normal);
                let w = witness
                    .map(|w| format!("{} {}", w.name, w.phone))
                    .unwrap_or_else(|| "—".into());
                doc.field("见证人 / Witness", &w, Tone::Normal);
                doc.field("记录时间 / Recorded", &cst(e.corrected_at), Tone::Normal);
            }
            _ => {}
        }
    }
    if !any {
        doc.text("无签字记录。/ No signature recorded.", BODY, Tone::Quiet);
    }
}

fn ratings(doc: &mut Layout, job: &ConsoleJob) {
    doc.heading("客户评价 / Rating");
    let mut any = false;
    for e in job.timeline.iter().filter(|e| e.accepted) {
        if let Some(EventBody::RatingGiven { stars, comment }) = body_of(e) {
            any = true;
            let stars = stars.min(5);
            doc.field(
                "评分 / Stars",
                &format!(
                    "{}{} ({stars}/5)",
                    "★".repeat(stars.into()),
                    "☆".repeat((5 - stars).into())
                ),
                Tone::Normal,
            );
            doc.field(
                "评语 / Comment",
                if comment.is_empty() { "—" } else { &comment },
                Tone::Normal,
            );
        }
    }
    if !any {
        doc.text("无评价。/ No rating.", BODY, Tone::Quiet);
    }
}

fn chains(doc: &mut Layout, job: &ConsoleJob) {
    doc.heading("证据链状态 / Chain status");
    if job.chains.is_empty() {
        doc.text("无设备记录。/ No device records.", BODY, Tone::Quiet);
    }
    for c in &job.chains {
        let (text, tone) = match c.state {
            ChainState::Verified => (
                format!(
                    "签名与哈希链已核验（{} 个事件）/ signatures and hash chain verified ({} events)",
                    c.events, c.events
                ),
                Tone::Normal,
            ),
            ChainState::Broken => (
                format!(
                    "第 {} 号事件不成立 / event seq {} does not hold ({}): {}",
                    c.bad_seq.unwrap_or(0),
                    c.bad_seq.unwrap_or(0),
                    c.bad_event_id.map(|i| i.to_string()).unwrap_or_default(),
                    c.message
                ),
                Tone::Alarm,
            ),
            ChainState::TipMismatch | ChainState::BadKey => (
                format!("不成立 / does not hold: {}", c.message),
                Tone::Alarm,
            ),
        };
        doc.field(&format!("{} {}", c.device_code, c.device_name), &text, tone);
    }
    doc.text(
        "此状态为办公室生成本摘要时的核验结果。/ As the office found it when it made this summary.",
        SMALL,
        Tone::Quiet,
    );
}

fn how_to_verify(doc: &mut Layout) {
    doc.heading("如何核验 / How to verify");
    for line in [
        "1. 文件完整 / files intact:  sha256sum -c SHA256SUMS",
        "2. 全部核验 / everything:  python3 verify.py export --strict evidence.jsonl",
        "   输出 “the evidence holds: no faults, nothing unproven” 即证据成立。/ It ends with \
         “the evidence holds: no faults, nothing unproven” when it does.",
        "3. 单个事件 / one event by hand (OpenSSL): 见 README.txt / see README.txt.",
        "本 PDF 不是证据本身：若与 evidence.jsonl 不一致，以 evidence.jsonl 为准。/ This PDF is not \
         the evidence: where it differs from evidence.jsonl, evidence.jsonl stands.",
    ] {
        doc.text(line, BODY, Tone::Normal);
    }
}
