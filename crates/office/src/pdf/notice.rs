//! The rectification notice (整改通知书) as handed to a customer: the company, the notice number,
//! the customer and address, what the inspector found, the rectification required and its
//! deadline, the inspector's name and badge, and lines for the customer's acknowledgement. Left at
//! an acceptance inspection (验收整改意见), it names the works and the site, the acceptance result,
//! remarks and defects instead, and is acknowledged by the contractor.
//!
//! Made only from the stored `notice_issued` and `finding_recorded` records of the job, so the same
//! records print the same bytes.

use super::service_record::company_lines;
use super::{BODY, Layout, PdfFont, Tone};
use crate::documents::cst;
use crate::readback::{JobDetail, RecordView};
use heatcrew_protocol::JobKind;
use heatcrew_protocol::sync::CompanyProfile;
use heatcrew_rules::template::{self, Evidence};
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

    let acceptance = j.kind == JobKind::AcceptanceInspection;
    if acceptance {
        works_and_result(&mut doc, d);
    } else {
        customer_and_findings(&mut doc, d);
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
        if acceptance {
            "请施工方于整改期限前完成整改，整改完成后我方按期复验；逾期未整改的，工程不予验收。\
             The contractor completes the rectification by the deadline and we inspect the works \
             again; works not rectified by then are not accepted."
        } else {
            "请于整改期限前完成整改，逾期未整改的，将依据供用热合同及有关规定处理。\
             Please complete the rectification by the deadline; otherwise the heat supply contract \
             and the applicable regulations apply."
        },
        BODY,
        Tone::Quiet,
    );

    doc.heading("签字 / Signatures");
    doc.field(
        if acceptance {
            "验收人员 / Inspector"
        } else {
            "检查人员 / Inspector"
        },
        &(src.person)(src.notice.at.user_id),
        Tone::Normal,
    );
    doc.space(10.0);
    doc.field(
        if acceptance {
            "施工方签字 / Contractor"
        } else {
            "用户签字 / Customer"
        },
        "________________________",
        Tone::Normal,
    );
    doc.space(6.0);
    doc.field("日期 / Date", "________________________", Tone::Normal);
    doc.finish()
}

/// A heat-theft notice: the customer at the address, and what the inspector found.
fn customer_and_findings(doc: &mut Layout, d: &JobDetail) {
    let j = &d.job;
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
}

/// An acceptance's written rectification opinion (验收整改意见): the works and where they are, the
/// acceptance result and remarks as the inspection step recorded them, and the defects recorded.
fn works_and_result(doc: &mut Layout, d: &JobDetail) {
    let j = &d.job;
    doc.heading("工程 / Works");
    doc.field("工程名称 / Works", &j.title, Tone::Normal);
    let site = j
        .site
        .clone()
        .or_else(|| j.customer.as_ref().map(|c| c.address.clone()))
        .unwrap_or_default();
    doc.field("地点 / Site", &site, Tone::Normal);
    doc.heading("验收结论 / Acceptance result");
    let inspect = d
        .steps
        .iter()
        .rev()
        .find(|s| s.step == "inspect" && s.status == "completed");
    let result = inspect
        .and_then(|s| s.evidence["states"]["result"].as_str())
        .unwrap_or_default();
    // In the words of the job's own checklist (the choice's label), as the inspector chose it.
    let label = template::for_job(j)
        .ok()
        .and_then(|t| t.step("inspect"))
        .and_then(|s| {
            s.evidence.iter().find_map(|e| match e {
                Evidence::Choice { key, options, .. } if key == "result" => {
                    options.iter().find(|o| o.value == result)
                }
                _ => None,
            })
        })
        .map(|o| format!("{} / {}", o.label.zh, o.label.en));
    let result = match (result, label) {
        ("", _) => "（未记录 / not recorded）".to_owned(),
        (_, Some(label)) => label,
        (other, None) => other.to_owned(),
    };
    doc.field("结论 / Result", &result, Tone::Normal);
    if let Some(remarks) = inspect
        .and_then(|s| s.evidence["text"]["remarks"].as_str())
        .filter(|r| !r.trim().is_empty())
    {
        doc.field("验收意见 / Remarks", remarks, Tone::Normal);
    }
    for (i, defect) in d.defects.iter().enumerate() {
        doc.field(
            &format!("{}. 缺陷 / Defect", i + 1),
            defect.payload["description"].as_str().unwrap_or_default(),
            Tone::Normal,
        );
    }
}
