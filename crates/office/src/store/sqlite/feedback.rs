//! Feedback records (信息反馈) and the digests of printed documents (migration 0018): one row per
//! closed visit, searched with indexes and paged by keyset, streamed row by row to the documents.

use super::{SqliteStore, json, parse_ts, parse_uuid, to_json, ts};
use crate::feedback::{
    DocumentDigest, FeedbackPage, FeedbackQuery, FeedbackRecord, FeedbackStore, MonthJob,
    bad_cursor, cursor_of, parse_cursor,
};
use crate::store::{JobRecord, StoreResult};
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Row, params, params_from_iter};
use uuid::Uuid;

const COLUMNS: &str = "f.job_id, f.job_kind, f.title, f.staff_id, f.staff_name, f.staff_badge,
    f.customer_name, f.customer_phone, f.customer_account, f.address, f.reported_at, f.arrived_at,
    f.resolved_at, f.closed_at, f.result, f.summary, f.rating, f.comment, f.opinions";

/// The columns of [`COLUMNS`] as read inside SQLite's row callback (text, parsed after).
type Raw = (
    [String; 3],
    Option<String>,
    [String; 6],
    [Option<String>; 3],
    [String; 3],
    Option<i64>,
    [String; 2],
);

fn read(r: &Row<'_>, at: usize) -> rusqlite::Result<Raw> {
    let s = |i: usize| r.get::<_, String>(at + i);
    let o = |i: usize| r.get::<_, Option<String>>(at + i);
    Ok((
        [s(0)?, s(1)?, s(2)?],
        o(3)?,
        [s(4)?, s(5)?, s(6)?, s(7)?, s(8)?, s(9)?],
        [o(10)?, o(11)?, o(12)?],
        [s(13)?, s(14)?, s(15)?],
        r.get(at + 16)?,
        [s(17)?, s(18)?],
    ))
}

fn parse(raw: Raw) -> StoreResult<FeedbackRecord> {
    let (
        [job_id, job_kind, title],
        staff_id,
        people,
        times,
        [closed_at, result, summary],
        rating,
        [comment, opinions],
    ) = raw;
    let [
        staff_name,
        staff_badge,
        customer_name,
        customer_phone,
        customer_account,
        address,
    ] = people;
    let [reported_at, arrived_at, resolved_at] = times;
    let t = |s: Option<String>| s.as_deref().map(parse_ts).transpose();
    Ok(FeedbackRecord {
        job_id: parse_uuid(&job_id)?,
        job_kind,
        title,
        staff_id: staff_id.as_deref().map(parse_uuid).transpose()?,
        staff_name,
        staff_badge,
        customer_name,
        customer_phone,
        customer_account,
        address,
        reported_at: t(reported_at)?,
        arrived_at: t(arrived_at)?,
        resolved_at: t(resolved_at)?,
        closed_at: parse_ts(&closed_at)?,
        result,
        summary,
        rating: rating.and_then(|r| u8::try_from(r).ok()),
        comment,
        opinions: json(&opinions)?,
    })
}

/// `text` with LIKE's wildcards escaped (`ESCAPE '\'`).
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The `WHERE` of `q` (without paging) and its parameters.
fn filter(q: &FeedbackQuery) -> StoreResult<(String, Vec<Value>)> {
    q.check()?;
    let mut clauses: Vec<String> = vec!["1 = 1".into()];
    let mut params: Vec<Value> = Vec::new();
    // Each `?` of a clause becomes the number of the value it takes.
    let mut add = |clause: &str, values: Vec<Value>| {
        let mut parts = clause.split('?');
        let mut c = parts.next().unwrap_or_default().to_owned();
        for (part, v) in parts.zip(values) {
            params.push(v);
            c.push_str(&format!("?{}{part}", params.len()));
        }
        clauses.push(c);
    };
    if let Some(from) = q.from {
        add("f.closed_at >= ?", vec![Value::Text(ts(from))]);
    }
    if let Some(to) = q.to {
        add("f.closed_at < ?", vec![Value::Text(ts(to))]);
    }
    if let Some(staff) = q.staff {
        add("f.staff_id = ?", vec![Value::Text(staff.to_string())]);
    }
    if let Some(result) = &q.result {
        add("f.result = ?", vec![Value::Text(result.clone())]);
    }
    for (bound, op) in [(q.rating_min, ">="), (q.rating_max, "<=")] {
        if let Some(r) = bound {
            add(&format!("f.rating {op} ?"), vec![Value::Integer(r.into())]);
        }
    }
    if let Some(c) = q
        .customer
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let digits = crate::store::sqlite::phone_key(c);
        let prefix = format!("{}%", like_escaped(c));
        if !digits.is_empty() && digits.len() == c.chars().filter(|c| !" -+()".contains(*c)).count()
        {
            add(
                "(f.customer_phone LIKE ? ESCAPE '\\' OR f.customer_account LIKE ? ESCAPE '\\')",
                vec![Value::Text(format!("{digits}%")), Value::Text(prefix)],
            );
        } else {
            add(
                "(f.customer_name LIKE ? ESCAPE '\\' OR f.customer_account LIKE ? ESCAPE '\\')",
                vec![
                    Value::Text(format!("%{}%", like_escaped(c))),
                    Value::Text(prefix),
                ],
            );
        }
    }
    Ok((clauses.join(" AND "), params))
}

impl FeedbackStore for SqliteStore {
    fn save_feedback(&self, r: &FeedbackRecord, now: DateTime<Utc>) -> StoreResult<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO feedback_records (job_id, job_kind, title, staff_id, staff_name,
                 staff_badge, customer_name, customer_phone, customer_account, address, reported_at,
                 arrived_at, resolved_at, closed_at, result, summary, rating, comment, opinions,
                 updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19, ?20)",
            params![
                r.job_id.to_string(),
                r.job_kind,
                r.title,
                r.staff_id.map(|u| u.to_string()),
                r.staff_name,
                r.staff_badge,
                r.customer_name,
                r.customer_phone,
                r.customer_account,
                r.address,
                r.reported_at.map(ts),
                r.arrived_at.map(ts),
                r.resolved_at.map(ts),
                ts(r.closed_at),
                r.result,
                r.summary,
                r.rating,
                r.comment,
                to_json(&r.opinions),
                ts(now),
            ],
        )?;
        Ok(())
    }

    fn feedback_page(&self, q: &FeedbackQuery) -> StoreResult<FeedbackPage> {
        let limit = q.limit.unwrap_or(50).clamp(1, 200);
        let (where_, mut params) = filter(q)?;
        let conn = self.reader();
        let total: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM feedback_records f WHERE {where_}"),
            params_from_iter(params.iter()),
            |r| r.get(0),
        )?;
        let mut page_where = where_;
        if let Some(after) = &q.after {
            let (at, id) = parse_cursor(after).ok_or_else(bad_cursor)?;
            let n = params.len();
            page_where.push_str(&format!(
                " AND (f.closed_at < ?{a} OR (f.closed_at = ?{a} AND f.job_id < ?{b}))",
                a = n + 1,
                b = n + 2
            ));
            params.push(Value::Text(ts(at)));
            params.push(Value::Text(id.to_string()));
        }
        params.push(Value::Integer(i64::from(limit) + 1));
        let sql = format!(
            "SELECT {COLUMNS} FROM feedback_records f WHERE {page_where}
             ORDER BY f.closed_at DESC, f.job_id DESC LIMIT ?{}",
            params.len()
        );
        let mut st = conn.prepare_cached(&sql)?;
        let raws = st
            .query_map(params_from_iter(params.iter()), |r| read(r, 0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut records = raws
            .into_iter()
            .map(parse)
            .collect::<StoreResult<Vec<_>>>()?;
        let next = if records.len() > limit as usize {
            records.truncate(limit as usize);
            records.last().map(cursor_of)
        } else {
            None
        };
        Ok(FeedbackPage {
            records,
            total: total as u64,
            next,
        })
    }

    fn each_feedback(
        &self,
        q: &FeedbackQuery,
        f: &mut dyn FnMut(FeedbackRecord) -> bool,
    ) -> StoreResult<()> {
        let (where_, params) = filter(q)?;
        let conn = self.reader();
        let mut st = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM feedback_records f WHERE {where_}
             ORDER BY f.closed_at DESC, f.job_id DESC"
        ))?;
        let mut rows = st.query(params_from_iter(params.iter()))?;
        while let Some(row) = rows.next()? {
            if !f(parse(read(row, 0)?)?) {
                break;
            }
        }
        Ok(())
    }

    fn closed_jobs_without_feedback(&self) -> StoreResult<Vec<Uuid>> {
        let conn = self.reader();
        let mut st = conn.prepare(
            "SELECT DISTINCT e.job_id FROM events e
             WHERE e.kind = 'job_closed' AND e.status = 'accepted'
               AND NOT EXISTS (SELECT 1 FROM feedback_records f WHERE f.job_id = e.job_id)
               AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = e.job_id
                           AND j.kind != 'patrol_round' AND j.status != 'cancelled')",
        )?;
        let ids = st
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        ids.iter().map(|s| parse_uuid(s)).collect()
    }

    fn each_job_created(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut dyn FnMut(MonthJob) -> bool,
    ) -> StoreResult<()> {
        let conn = self.reader();
        let mut st = conn.prepare(&format!(
            "SELECT j.body, j.created_at, j.cancel_reason, j.field_created, j.accepted_at,
                    COALESCE(u.display_name, ''), f.job_id IS NOT NULL, {COLUMNS}
             FROM jobs j
             LEFT JOIN users u ON u.id = j.assignee
             LEFT JOIN feedback_records f ON f.job_id = j.id
             WHERE j.created_at >= ?1 AND j.created_at < ?2
             ORDER BY j.created_at, j.id"
        ))?;
        let mut rows = st.query(params![ts(from), ts(to)])?;
        while let Some(row) = rows.next()? {
            let body: String = row.get(0)?;
            let created_at: String = row.get(1)?;
            let accepted_at: Option<String> = row.get(4)?;
            let has_feedback: bool = row.get(6)?;
            let record = JobRecord {
                job: json(&body)?,
                created_at: parse_ts(&created_at)?,
                cancel_reason: row.get(2)?,
                field_created: row.get(3)?,
                accepted_at: accepted_at.as_deref().map(parse_ts).transpose()?,
            };
            let feedback = if has_feedback {
                Some(parse(read(row, 7)?)?)
            } else {
                None
            };
            let job = MonthJob {
                record,
                assignee_name: row.get(5)?,
                feedback,
            };
            if !f(job) {
                break;
            }
        }
        Ok(())
    }

    fn keep_document_digest(
        &self,
        job_id: Uuid,
        d: &DocumentDigest,
    ) -> StoreResult<Vec<DocumentDigest>> {
        self.conn().execute(
            "INSERT OR IGNORE INTO document_digests (job_id, document, sha256, bytes, first_made_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                job_id.to_string(),
                d.document,
                d.sha256,
                d.bytes as i64,
                ts(d.first_made_at)
            ],
        )?;
        self.document_digests(job_id)
    }

    fn document_digests(&self, job_id: Uuid) -> StoreResult<Vec<DocumentDigest>> {
        super::select(
            &self.conn(),
            "SELECT document, sha256, bytes, first_made_at FROM document_digests
             WHERE job_id = ?1 ORDER BY first_made_at, document, sha256",
            [job_id.to_string()],
            |r| <(String, String, i64, String)>::try_from(r),
            |(document, sha256, bytes, at)| {
                Ok(DocumentDigest {
                    document,
                    sha256,
                    bytes: bytes as u64,
                    first_made_at: parse_ts(&at)?,
                })
            },
        )
    }
}
