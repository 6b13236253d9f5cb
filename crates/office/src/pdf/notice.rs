//! The rectification notice (整改通知书) as handed to a customer: the company, the notice number,
//! the customer and address, what the inspector found, the rectification required and its
//! deadline, the inspector's name and badge, and lines for the customer's acknowledgement.
//!
//! Made only from the stored `notice_issued` and `finding_recorded` records of the job, so the same
//! records print the same bytes.

use super::service_record::company_lines;
use super::{BODY, Layout, PdfFont, Tone};
use crate::documents::cst;
use crate::readback::{JobDetail, RecordView};
use heatcrew_protocol::sync::CompanyProfile;
use uuid::Uuid;

pub struct NoticeSource<'a> {
    pub company: Option<&'a CompanyProfile>,
    pub detail: &'a JobDetail,
    /// The `notice_issued` record to print.
    pub notice: &'a RecordView,
    /// A user as printed: `name (工号 badge)`.
    pub person: &'a dyn Fn(Uuid) -> String,
}

impl std::fmt::Debug for NoticeSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoticeSource")
            .field("job", &self.detail.job.id)
            .finish_non_exhaustive()
    }
}

/// What an inspector found, in the users' words.
pub fn finding_zh(category: &str) -> &str {
    match category {
        "unauthorized_connection" => "私接/旁通管",
        "tampered_seal" => "破坏铅封",
        "tampered_meter" => "擅自改动计量表",
        "valve_opened_without_permission" => "擅自开启已关闭阀门",
        "added_radiators" => "擅自增加散热面积",
        "other" => "其他",
        other => other,
    }
}

/// The notice of `job` numbered `number`, if the job holds one.
pub fn find_notice<'a>(detail: &'a JobDetail, number: &str) -> Option<&'a RecordView> {
    detail
        .notices
        .iter()
        .find(|n| n.payload["number"].as_str() == Some(number))
}

pub fn rectification_notice(font: PdfFont, src: &NoticeSource<'_>) -> Result<Vec<u8>, String> {
    let d = src.detail;
    let j = &d.job;
    let p = &src.notice.payload;
    let number = p["number"].as_str().unwrap_or_default();
    let mut doc = Layout::new(
        font,
        &format!("整改通知书 / Rectification notice {number}"),
        &format!("整改通知书 / Rectification notice {number}"),
    );
    company_lines(&mut doc, src.company);
    doc.title("整改通知书 / Rectification notice");
    doc.field("编号 / Number", number, Tone::Normal);
    doc.field(
        "签发时间 / Issued",
        &cst(src.notice.at.corrected_at),
        Tone::Normal,
    );

    doc.heading("用户 / Customer");
    let c = j.customer.clone().unwrap_or_default();
    doc.field("姓名 / Name", &c.name, Tone::Normal);
    if !c.account_no.is_empty() {
        doc.field("用户编号 / Account", &c.account_no, Tone::Normal);
    }
    let address = if c.address.is_empty() {
        j.site.clone().unwrap_or_default()
    } else {
        c.address.clone()
    };
    doc.field("地址 / Address", &address, Tone::Normal);

    doc.heading("检查发现 / Findings");
    let findings: Vec<&RecordView> = d
        .other_records
        .iter()
        .filter(|r| r.kind == "finding_recorded")
        .collect();
    if findings.is_empty() {
        doc.text(
            "（无单独记录 / none recorded separately）",
            BODY,
            Tone::Quiet,
        );
    }
    for (i, f) in findings.iter().enumerate() {
        let category = f.payload["category"].as_str().unwrap_or_default();
        doc.field(
            &format!("{}. {}", i + 1, finding_zh(category)),
            f.payload["description"].as_str().unwrap_or_default(),
            Tone::Normal,
        );
    }

    doc.heading("整改要求 / Rectification required");
    doc.text(
        p["requirements"].as_str().unwrap_or_default(),
        BODY,
        Tone::Normal,
    );
    doc.space(4.0);
    doc.field(
        "整改期限 / Deadline",
        p["deadline"].as_str().unwrap_or_default(),
        Tone::Alarm,
    );
    if let Some(follow) = p["follow_up_on"].as_str() {
        doc.field("复查日期 / Re-inspection", follow, Tone::Normal);
    }
    doc.text(
        "请于整改期限前完成整改，逾期未整改的，将依据供用热合同及有关规定处理。\
         Please complete the rectification by the deadline; otherwise the heat supply contract \
         and the applicable regulations apply.",
        BODY,
        Tone::Quiet,
    );

    doc.heading("签字 / Signatures");
    doc.field(
        "检查人员 / Inspector",
        &(src.person)(src.notice.at.user_id),
        Tone::Normal,
    );
    doc.space(10.0);
    doc.field(
        "用户签字 / Customer",
        "________________________",
        Tone::Normal,
    );
    doc.space(6.0);
    doc.field("日期 / Date", "________________________", Tone::Normal);
    doc.finish()
}
