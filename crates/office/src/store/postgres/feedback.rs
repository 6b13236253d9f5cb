//! Feedback records (信息反馈) and the digests of printed documents (migration 0002): one row per
//! closed visit, searched with indexes and paged by keyset, streamed to the documents through a
//! portal (a few hundred rows at a time, from one snapshot), as `sqlite/feedback.rs` does.

use super::PgStore;
use crate::feedback::{
    DocumentDigest, FeedbackPage, FeedbackQuery, FeedbackRecord, FeedbackStore, MonthJob,
    bad_cursor, cursor_of, parse_cursor,
};
use crate::store::convert::{json, parse_ts, parse_uuid, to_json, ts};
use crate::store::{JobRecord, StoreResult};
use chrono::{DateTime, Utc};
use postgres::Row;
use postgres::types::ToSql;
use uuid::Uuid;

const COLUMNS: &str = "f.job_id, f.job_kind, f.title, f.staff_id, f.staff_name, f.staff_badge,
    f.customer_name, f.customer_phone, f.customer_account, f.address, f.reported_at, f.arrived_at,
    f.resolved_at, f.closed_at, f.result, f.summary, f.rating, f.comment, f.opinions";

/// Rows handed to a streaming reader per round trip.
const BATCH: i32 = 500;

/// The record in the [`COLUMNS`] of `r` from column `at` on.
fn parse(r: &Row, at: usize) -> StoreResult<FeedbackRecord> {
    let s = |i: usize| r.try_get::<_, String>(at + i);
    let o = |i: usize| r.try_get::<_, Option<String>>(at + i);
    let t = |i: usize| -> StoreResult<Option<DateTime<Utc>>> {
        o(i)?.as_deref().map(parse_ts).transpose()
    };
    Ok(FeedbackRecord {
        job_id: parse_uuid(&s(0)?)?,
        job_kind: s(1)?,
        title: s(2)?,
        staff_id: o(3)?.as_deref().map(parse_uuid).transpose()?,
        staff_name: s(4)?,
        staff_badge: s(5)?,
        customer_name: s(6)?,
        customer_phone: s(7)?,
        customer_account: s(8)?,
        address: s(9)?,
        reported_at: t(10)?,
        arrived_at: t(11)?,
        resolved_at: t(12)?,
        closed_at: parse_ts(&s(13)?)?,
        result: s(14)?,
        summary: s(15)?,
        rating: r
            .try_get::<_, Option<i64>>(at + 16)?
            .and_then(|r| u8::try_from(r).ok()),
        comment: s(17)?,
        opinions: json(&s(18)?)?,
    })
}

/// `text` with LIKE's wildcards escaped (backslash, PostgreSQL's default escape).
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

type Params = Vec<Box<dyn ToSql + Sync + Send>>;

fn refs(params: &Params) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// The `WHERE` of `q` (without paging) and its parameters. Case-insensitive matching (`ILIKE`), as
/// SQLite's `LIKE` is.
fn filter(q: &FeedbackQuery) -> StoreResult<(String, Params)> {
    q.check()?;
    let mut clauses: Vec<String> = vec!["TRUE".into()];
    let mut params: Params = Vec::new();
    // Each `?` of a clause becomes the number of the value it takes.
    let mut add = |clause: &str, values: Params| {
        let mut parts = clause.split('?');
        let mut c = parts.next().unwrap_or_default().to_owned();
        for (part, v) in parts.zip(values) {
            params.push(v);
            c.push_str(&format!("${}{part}", params.len()));
        }
        clauses.push(c);
    };
    if let Some(from) = q.from {
        add("f.closed_at >= ?", vec![Box::new(ts(from))]);
    }
    if let Some(to) = q.to {
        add("f.closed_at < ?", vec![Box::new(ts(to))]);
    }
    if let Some(staff) = q.staff {
        add("f.staff_id = ?", vec![Box::new(staff.to_string())]);
    }
    if let Some(result) = &q.result {
        add("f.result = ?", vec![Box::new(result.clone())]);
    }
    for (bound, op) in [(q.rating_min, ">="), (q.rating_max, "<=")] {
        if let Some(r) = bound {
            add(&format!("f.rating {op} ?"), vec![Box::new(i64::from(r))]);
        }
    }
    if let Some(c) = q
        .customer
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let digits = crate::store::convert::phone_key(c);
        let prefix = format!("{}%", like_escaped(c));
        if !digits.is_empty() && digits.len() == c.chars().filter(|c| !" -+()".contains(*c)).count()
        {
            add(
                "(f.customer_phone LIKE ? OR f.customer_account ILIKE ?)",
                vec![Box::new(format!("{digits}%")), Box::new(prefix)],
            );
        } else {
            add(
                "(f.customer_name ILIKE ? OR f.customer_account ILIKE ?)",
                vec![Box::new(format!("%{}%", like_escaped(c))), Box::new(prefix)],
            );
        }
    }
    Ok((clauses.join(" AND "), params))
}

impl FeedbackStore for PgStore {
    fn save_feedback(&self, r: &FeedbackRecord, now: DateTime<Utc>) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO feedback_records (job_id, job_kind, title, staff_id, staff_name,
                 staff_badge, customer_name, customer_phone, customer_account, address, reported_at,
                 arrived_at, resolved_at, closed_at, result, summary, rating, comment, opinions,
                 updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19, $20)
             ON CONFLICT (job_id) DO UPDATE SET job_kind = EXCLUDED.job_kind,
                 title = EXCLUDED.title, staff_id = EXCLUDED.staff_id,
                 staff_name = EXCLUDED.staff_name, staff_badge = EXCLUDED.staff_badge,
                 customer_name = EXCLUDED.customer_name, customer_phone = EXCLUDED.customer_phone,
                 customer_account = EXCLUDED.customer_account, address = EXCLUDED.address,
                 reported_at = EXCLUDED.reported_at, arrived_at = EXCLUDED.arrived_at,
                 resolved_at = EXCLUDED.resolved_at, closed_at = EXCLUDED.closed_at,
                 result = EXCLUDED.result, summary = EXCLUDED.summary, rating = EXCLUDED.rating,
                 comment = EXCLUDED.comment, opinions = EXCLUDED.opinions,
                 updated_at = EXCLUDED.updated_at",
            &[
                &r.job_id.to_string(),
                &r.job_kind,
                &r.title,
                &r.staff_id.map(|u| u.to_string()),
                &r.staff_name,
                &r.staff_badge,
                &r.customer_name,
                &r.customer_phone,
                &r.customer_account,
                &r.address,
                &r.reported_at.map(ts),
                &r.arrived_at.map(ts),
                &r.resolved_at.map(ts),
                &ts(r.closed_at),
                &r.result,
                &r.summary,
                &r.rating.map(i64::from),
                &r.comment,
                &to_json(&r.opinions),
                &ts(now),
            ],
        )?;
        Ok(())
    }

    fn feedback_page(&self, q: &FeedbackQuery) -> StoreResult<FeedbackPage> {
        let limit = q.limit.unwrap_or(50).clamp(1, 200);
        let (where_, mut params) = filter(q)?;
        let mut conn = self.conn()?;
        // The count and the page from one snapshot.
        let mut tx = conn
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let total: i64 = tx
            .query_one(
                &format!("SELECT COUNT(*) FROM feedback_records f WHERE {where_}"),
                &refs(&params),
            )?
            .try_get(0)?;
        let mut page_where = where_;
        if let Some(after) = &q.after {
            let (at, id) = parse_cursor(after).ok_or_else(bad_cursor)?;
            let n = params.len();
            page_where.push_str(&format!(
                " AND (f.closed_at < ${a} OR (f.closed_at = ${a} AND f.job_id < ${b}))",
                a = n + 1,
                b = n + 2
            ));
            params.push(Box::new(ts(at)));
            params.push(Box::new(id.to_string()));
        }
        params.push(Box::new(i64::from(limit) + 1));
        let sql = format!(
            "SELECT {COLUMNS} FROM feedback_records f WHERE {page_where}
             ORDER BY f.closed_at DESC, f.job_id DESC LIMIT ${}",
            params.len()
        );
        let rows = tx.query(&sql, &refs(&params))?;
        tx.commit()?;
        let mut records = rows
            .iter()
            .map(|r| parse(r, 0))
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
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let portal = tx.bind(
            &format!(
                "SELECT {COLUMNS} FROM feedback_records f WHERE {where_}
                 ORDER BY f.closed_at DESC, f.job_id DESC"
            ),
            &refs(&params),
        )?;
        loop {
            let rows = tx.query_portal(&portal, BATCH)?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                if !f(parse(row, 0)?) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn closed_jobs_without_feedback(&self) -> StoreResult<Vec<Uuid>> {
        let rows = self.conn()?.query(
            "SELECT DISTINCT e.job_id FROM events e
             WHERE e.kind = 'job_closed' AND e.status = 'accepted'
               AND NOT EXISTS (SELECT 1 FROM feedback_records f WHERE f.job_id = e.job_id)
               AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = e.job_id
                           AND j.kind != 'patrol_round' AND j.status != 'cancelled')",
            &[],
        )?;
        rows.iter()
            .map(|r| parse_uuid(&r.try_get::<_, String>(0)?))
            .collect()
    }

    fn each_job_created(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: &mut dyn FnMut(MonthJob) -> bool,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let portal = tx.bind(
            &format!(
                "SELECT j.body, j.created_at, j.cancel_reason, j.field_created, j.accepted_at,
                        COALESCE(u.display_name, ''), f.job_id IS NOT NULL, {COLUMNS}
                 FROM jobs j
                 LEFT JOIN users u ON u.id = j.assignee
                 LEFT JOIN feedback_records f ON f.job_id = j.id
                 WHERE j.created_at >= $1 AND j.created_at < $2
                 ORDER BY j.created_at, j.id"
            ),
            &[&ts(from), &ts(to)],
        )?;
        loop {
            let rows = tx.query_portal(&portal, BATCH)?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let accepted_at: Option<String> = row.try_get(4)?;
                let record = JobRecord {
                    job: json(&row.try_get::<_, String>(0)?)?,
                    created_at: parse_ts(&row.try_get::<_, String>(1)?)?,
                    cancel_reason: row.try_get(2)?,
                    field_created: row.try_get::<_, i64>(3)? != 0,
                    accepted_at: accepted_at.as_deref().map(parse_ts).transpose()?,
                };
                let feedback = if row.try_get::<_, bool>(6)? {
                    Some(parse(row, 7)?)
                } else {
                    None
                };
                let job = MonthJob {
                    record,
                    assignee_name: row.try_get(5)?,
                    feedback,
                };
                if !f(job) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn keep_document_digest(
        &self,
        job_id: Uuid,
        d: &DocumentDigest,
    ) -> StoreResult<Vec<DocumentDigest>> {
        self.conn()?.execute(
            "INSERT INTO document_digests (job_id, document, sha256, bytes, first_made_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[
                &job_id.to_string(),
                &d.document,
                &d.sha256,
                &(d.bytes as i64),
                &ts(d.first_made_at),
            ],
        )?;
        self.document_digests(job_id)
    }

    fn document_digests(&self, job_id: Uuid) -> StoreResult<Vec<DocumentDigest>> {
        self.conn()?
            .query(
                "SELECT document, sha256, bytes, first_made_at FROM document_digests
                 WHERE job_id = $1 ORDER BY first_made_at, document, sha256",
                &[&job_id.to_string()],
            )?
            .iter()
            .map(|r| {
                Ok(DocumentDigest {
                    document: r.try_get(0)?,
                    sha256: r.try_get(1)?,
                    bytes: r.try_get::<_, i64>(2)? as u64,
                    first_made_at: parse_ts(&r.try_get::<_, String>(3)?)?,
                })
            })
            .collect()
    }
}
