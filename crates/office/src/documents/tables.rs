//! The office's tables: feedback records (信息反馈), a month's jobs, and a summary of label/value
//! rows (the monthly report's first sheet). Each reads its rows straight from the store.

use super::{Cell, Column, DocumentError, RowSink, Table, col};
use crate::feedback::{FeedbackQuery, FeedbackRecord, kind_zh, opinions_text, result_zh};
use crate::store::OfficeStore;
use chrono::{DateTime, Utc};

/// Feedback records matching a query, newest closing first.
#[derive(Debug)]
pub struct FeedbackTable {
    pub query: FeedbackQuery,
}

const FEEDBACK_COLUMNS: &[Column] = &[
    col("工单号 Job", 38.0),
    col("类型 Kind", 10.0),
    col("服务人员 Staff", 12.0),
    col("工号 Badge", 10.0),
    col("客户 Customer", 12.0),
    col("电话 Phone", 14.0),
    col("用户编号 Account", 14.0),
    col("地址 Address", 28.0),
    col("报修时间 Reported", 20.0),
    col("到达时间 Arrived", 20.0),
    col("解决时间 Resolved", 20.0),
    col("关闭时间 Closed", 20.0),
    col("处置结果 Result", 12.0),
    col("处置说明 Summary", 28.0),
    col("满意度 Rating", 8.0),
    col("客户评价 Comment", 28.0),
    col("意见征询 Opinions", 48.0),
];

/// A feedback record as a row of [`FEEDBACK_COLUMNS`].
pub fn feedback_row(r: &FeedbackRecord) -> Vec<Cell> {
    vec![
        Cell::text(r.job_id.to_string()),
        Cell::text(kind_zh(&r.job_kind)),
        Cell::text(&r.staff_name),
        Cell::text(&r.staff_badge),
        Cell::text(&r.customer_name),
        Cell::text(&r.customer_phone),
        Cell::text(&r.customer_account),
        Cell::text(&r.address),
        Cell::time(r.reported_at),
        Cell::time(r.arrived_at),
        Cell::time(r.resolved_at),
        Cell::time(Some(r.closed_at)),
        Cell::text(result_zh(&r.result)),
        Cell::text(&r.summary),
        r.rating.map_or(Cell::Empty, |s| Cell::Int(s.into())),
        Cell::text(&r.comment),
        Cell::text(opinions_text(&r.opinions)),
    ]
}

impl Table for FeedbackTable {
    fn name(&self) -> &str {
        "信息反馈"
    }

    fn columns(&self) -> &[Column] {
        FEEDBACK_COLUMNS
    }

    fn rows(
        &mut self,
        store: &dyn OfficeStore,
        sink: &mut RowSink<'_>,
    ) -> Result<(), DocumentError> {
        let mut failed = None;
        store.each_feedback(&self.query, &mut |r| match sink(&feedback_row(&r)) {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        })?;
        failed.map_or(Ok(()), Err)
    }
}

/// Every job created in `[from, to)`, in creation order.
#[derive(Debug)]
pub struct JobsTable {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

const JOB_COLUMNS: &[Column] = &[
    col("工单号 Job", 38.0),
    col("类型 Kind", 10.0),
    col("标题 Title", 24.0),
    col("状态 Status", 10.0),
    col("创建时间 Created", 20.0),
    col("报修时间 Reported", 20.0),
    col("预约开始 Appointment", 20.0),
    col("客户 Customer", 12.0),
    col("电话 Phone", 14.0),
    col("地址 Address", 28.0),
    col("负责人 Assignee", 12.0),
    col("处置结果 Result", 12.0),
    col("解决时间 Resolved", 20.0),
    col("4小时内解决 Within 4 h", 12.0),
    col("满意度 Rating", 8.0),
];

fn status_zh(s: heatcrew_protocol::JobStatus) -> &'static str {
    match s {
        heatcrew_protocol::JobStatus::Open => "进行中",
        heatcrew_protocol::JobStatus::Cancelled => "已取消",
    }
}

impl Table for JobsTable {
    fn name(&self) -> &str {
        "工单"
    }

    fn columns(&self) -> &[Column] {
        JOB_COLUMNS
    }

    fn rows(
        &mut self,
        store: &dyn OfficeStore,
        sink: &mut RowSink<'_>,
    ) -> Result<(), DocumentError> {
        let mut failed = None;
        store.each_job_created(self.from, self.to, &mut |m| {
            let j = &m.record.job;
            let customer = j.customer.clone().unwrap_or_default();
            let fb = m.feedback.as_ref();
            let status = match fb {
                Some(_) if j.status != heatcrew_protocol::JobStatus::Cancelled => "已关闭",
                _ => status_zh(j.status),
            };
            let within = match (j.reported_at, fb.and_then(|f| f.resolved_at)) {
                (Some(rep), Some(res)) => {
                    Cell::text(if res - rep <= heatcrew_rules::sla::RESOLUTION_TARGET {
                        "是"
                    } else {
                        "否"
                    })
                }
                _ => Cell::Empty,
            };
            let row = [
                Cell::text(j.id.to_string()),
                Cell::text(kind_zh(j.kind.as_str())),
                Cell::text(&j.title),
                Cell::text(status),
                Cell::time(Some(m.record.created_at)),
                Cell::time(j.reported_at),
                Cell::time(j.window.map(|w| w.start)),
                Cell::text(customer.name),
                Cell::text(customer.phone),
                Cell::text(customer.address),
                Cell::text(&m.assignee_name),
                fb.map_or(Cell::Empty, |f| Cell::text(result_zh(&f.result))),
                Cell::time(fb.and_then(|f| f.resolved_at)),
                within,
                fb.and_then(|f| f.rating)
                    .map_or(Cell::Empty, |s| Cell::Int(s.into())),
            ];
            match sink(&row) {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        })?;
        failed.map_or(Ok(()), Err)
    }
}

/// Label/value rows: the monthly report's summary sheet.
#[derive(Debug)]
pub struct SummaryTable {
    pub name: String,
    pub rows: Vec<(String, Cell)>,
}

const SUMMARY_COLUMNS: &[Column] = &[col("项目 Figure", 44.0), col("数值 Value", 16.0)];

impl Table for SummaryTable {
    fn name(&self) -> &str {
        &self.name
    }

    fn columns(&self) -> &[Column] {
        SUMMARY_COLUMNS
    }

    fn rows(
        &mut self,
        _store: &dyn OfficeStore,
        sink: &mut RowSink<'_>,
    ) -> Result<(), DocumentError> {
        for (label, value) in &self.rows {
            sink(&[Cell::text(label), value.clone()])?;
        }
        Ok(())
    }
}
