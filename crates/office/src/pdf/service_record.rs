//! A visit's service record (上门服务记录单), as the office prints it for the customer's file: the
//! company, the job and customer, who served (name and badge), the reported / appointment / arrival /
//! resolution times (office-corrected, China Standard Time), every checklist step with its time,
//! the result, the signature or why there is none, the customer's rating, comment and opinion-form
//! answers, and the notices issued.
//!
//! Made only from stored records (nothing that depends on when it is printed), so the same records
//! print the same bytes; the office keeps each PDF's SHA-256 ([`crate::documents::printable`]).

use super::{BODY, Layout, PdfFont, Tone};
use crate::documents::cst;
use crate::feedback::{FeedbackRecord, kind_zh, opinions_text, result_zh};
use crate::readback::JobDetail;
use heatcrew_protocol::sync::CompanyProfile;
use serde_json::Value;
use uuid::Uuid;

/// What a service record is made of.
pub struct ServiceRecordSource<'a> {
    pub company: Option<&'a CompanyProfile>,
    pub detail: &'a JobDetail,
    pub feedback: Option<&'a FeedbackRecord>,
    /// A user as printed: `name (工号 badge)`.
    pub person: &'a dyn Fn(Uuid) -> String,
}

impl std::fmt::Debug for ServiceRecordSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceRecordSource")
            .field("job", &self.detail.job.id)
            .finish_non_exhaustive()
    }
}

/// A step's title in both languages (the template's), else its id.
pub fn step_title(detail: &JobDetail, step: &str) -> String {
    heatcrew_rules::template::find(&detail.job.template)
        .and_then(|t| t.step(step))
        .map(|s| format!("{} / {}", s.title.zh, s.title.en))
        .unwrap_or_else(|| step.to_owned())
}

/// The company's heading lines (name, hotline), or a note that none is set.
pub fn company_lines(doc: &mut Layout, company: Option<&CompanyProfile>) {
    match company {
        Some(c) => {
            doc.text(&c.name, super::HEADING, Tone::Normal);
            doc.text(
                &format!("服务热线 / Service hotline: {}", c.hotline),
                BODY,
                Tone::Quiet,
            );
        }
        None => doc.text(
            "（公司信息未设置 / company profile not set）",
            BODY,
            Tone::Quiet,
        ),
    }
    doc.space(4.0);
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(|| "—".to_owned(), cst)
}

pub fn service_record(font: PdfFont, src: &ServiceRecordSource<'_>) -> Result<Vec<u8>, String> {
    let d = src.detail;
    let j = &d.job;
    let mut doc = Layout::new(
        font,
        &format!("上门服务记录单 / Service record: {}", j.title),
        &format!("HeatCrew 服务记录 / service record · 工单 / job {}", j.id),
    );
    company_lines(&mut doc, src.company);
    doc.title("上门服务记录单 / Service record");
    doc.text(
        "时间为北京时间（经办公室校正的设备时间）。Times are China Standard Time (device clocks corrected by the office).",
        BODY,
        Tone::Quiet,
    );

    doc.heading("工单 / Job");
    doc.field("工单号 / Job no.", &j.id.to_string(), Tone::Normal);
    doc.field("类型 / Kind", kind_zh(j.kind.as_str()), Tone::Normal);
    doc.field("内容 / Title", &j.title, Tone::Normal);

    doc.heading("客户 / Customer");
    let c = j.customer.clone().unwrap_or_default();
    doc.field("姓名 / Name", &c.name, Tone::Normal);
    doc.field("电话 / Phone", &c.phone, Tone::Normal);
    doc.field("地址 / Address", &c.address, Tone::Normal);
    if !c.account_no.is_empty() {
        doc.field("用户编号 / Account", &c.account_no, Tone::Normal);
    }

    doc.heading("服务人员与时间 / Staff and times");
    let staff = src
        .feedback
        .and_then(|f| f.staff_id)
        .or(j.assignee)
        .map_or_else(|| "—".to_owned(), |id| (src.person)(id));
    doc.field("服务人员 / Staff", &staff, Tone::Normal);
    doc.field("报修时间 / Reported", &time(j.reported_at), Tone::Normal);
    if let Some(w) = j.window {
        doc.field(
            "预约时间 / Appointment",
            &format!("{} – {}", cst(w.start), cst(w.end)),
            Tone::Normal,
        );
    }
    let fb = src.feedback;
    doc.field(
        "到达时间 / Arrived",
        &time(fb.and_then(|f| f.arrived_at)),
        Tone::Normal,
    );
    doc.field(
        "解决时间 / Resolved",
        &time(fb.and_then(|f| f.resolved_at)),
        Tone::Normal,
    );
    doc.field(
        "关闭时间 / Closed",
        &time(fb.map(|f| f.closed_at)),
        Tone::Normal,
    );

    doc.heading("服务步骤 / Steps");
    if d.steps.is_empty() {
        doc.text("（无记录 / none recorded）", BODY, Tone::Quiet);
    }
    for s in &d.steps {
        let status = if s.status == "completed" {
            "完成 / done".to_owned()
        } else {
            format!(
                "跳过 / skipped: {}",
                s.skip_reason.as_deref().unwrap_or_default()
            )
        };
        let tone = if s.status == "completed" {
            Tone::Normal
        } else {
            Tone::Alarm
        };
        doc.field(
            &step_title(d, &s.step),
            &format!("{status} · {}", cst(s.at.corrected_at)),
            tone,
        );
    }

    doc.heading("处置结果 / Result");
    match fb {
        Some(f) => {
            doc.field("结果 / Result", result_zh(&f.result), Tone::Normal);
            if !f.summary.is_empty() {
                doc.field("说明 / Summary", &f.summary, Tone::Normal);
            }
        }
        None => doc.text("尚未关闭 / not closed yet", BODY, Tone::Quiet),
    }
    for sig in &d.signatures {
        let text = if sig.signer == "declined" {
            let p = sig.declined.clone().unwrap_or(Value::Null);
            let why = p["reason"].as_str().unwrap_or_default().to_owned();
            let kind = match p["outcome"].as_str() {
                Some("absent") => "客户不在场 / absent",
                _ => "拒绝签字 / refused",
            };
            format!("{kind}: {why} · {}", cst(sig.at.corrected_at))
        } else {
            format!(
                "{} ({}) 已签字 / signed · {}",
                sig.signer_name,
                sig.signer,
                cst(sig.at.corrected_at)
            )
        };
        doc.field("签字 / Signature", &text, Tone::Normal);
    }

    doc.heading("客户满意度 / Customer's rating");
    match fb.and_then(|f| f.rating) {
        Some(stars) => {
            let f = fb.expect("a rating comes with its record");
            doc.field(
                "满意度 / Rating",
                &format!(
                    "{}{} ({stars}/5)",
                    "★".repeat(stars.min(5).into()),
                    "☆".repeat(5 - usize::from(stars.min(5)))
                ),
                Tone::Normal,
            );
            if !f.comment.is_empty() {
                doc.field("评价 / Comment", &f.comment, Tone::Normal);
            }
            let opinions = opinions_text(&f.opinions);
            if !opinions.is_empty() {
                doc.field("意见征询 / Opinions", &opinions, Tone::Normal);
            }
        }
        None => doc.text("客户未评价 / no rating given", BODY, Tone::Quiet),
    }

    if !d.notices.is_empty() {
        doc.heading("整改通知 / Rectification notices");
        for n in &d.notices {
            doc.field(
                n.payload["number"].as_str().unwrap_or_default(),
                &format!(
                    "整改期限 / deadline {}",
                    n.payload["deadline"].as_str().unwrap_or_default()
                ),
                Tone::Normal,
            );
        }
    }
    doc.finish()
}
