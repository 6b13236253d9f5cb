//! The one range check of what an event may carry, applied by the device before it records and by
//! the office when a push arrives (docs/domain.md, "What a record may hold"). Nothing outside these
//! bounds is recorded: the device refuses it with [`ErrorCode::OutOfRange`] and records nothing; the
//! office stores it flagged rejected with the same code (the chain stays whole, the record never
//! reaches jobs or reports).
//!
//! The bounds are generous for real work and far from what time arithmetic or JSON numbers break
//! on: times within [`EARLIEST`]..[`LATEST`], finite numbers within physical ranges, strings, lists
//! and nesting of bounded size. [`add_saturating`] is the arithmetic every reader uses over stored
//! times, so that rows stored before this check existed still cannot make a read fail.

use crate::{AttachmentRef, EventBody, Job, Position, Reading, StepEvidence, UnsignedEvent};
use crate::{ErrorCode, ReadingSpec};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde_json::Value;

/// 2000-01-01T00:00:00Z, as a Unix time: no record of this trade is older.
pub const EARLIEST_UNIX: i64 = 946_684_800;
/// 2200-01-01T00:00:00Z, as a Unix time (exclusive): no record is this far ahead.
pub const LATEST_UNIX: i64 = 7_258_118_400;
/// `elapsed_ms` counts from the device's first start: 100 years of milliseconds is plenty.
pub const MAX_ELAPSED_MS: u64 = 100 * 366 * 24 * 3600 * 1000;
/// Characters in any one string of a record (the longest free text: a description, a summary).
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Items in any one list, and fields in any one object, of a record.
pub const MAX_ITEMS: usize = 200;
/// Nesting of a record's JSON.
pub const MAX_DEPTH: usize = 16;
/// Bytes of an event kind's name.
pub const MAX_KIND_BYTES: usize = 64;
/// Any reading, whatever its unit: a 9-digit meter register at most.
pub const MAX_READING_ABS: f64 = 1e9;
/// Pixels along one side of a photo or signature.
pub const MAX_IMAGE_SIDE: u32 = 100_000;
/// The longest checkpoint interval a route may set (31 days).
pub const MAX_INTERVAL_MINUTES: u32 = 31 * 24 * 60;
/// A job's revision stays an exact JSON number (2^53 - 1).
pub const MAX_REVISION: u64 = (1 << 53) - 1;

/// The earliest time a record may carry.
pub fn earliest() -> DateTime<Utc> {
    DateTime::from_timestamp(EARLIEST_UNIX, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The first time a record may no longer carry.
pub fn latest() -> DateTime<Utc> {
    DateTime::from_timestamp(LATEST_UNIX, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Physical range of a reading by its unit; other units get ±[`MAX_READING_ABS`].
pub fn reading_range(unit: &str) -> (f64, f64) {
    match unit.trim() {
        // District heating water and the air around it: −60 °C outdoors to 250 °C steam.
        "°C" | "℃" | "C" | "degC" => (-60.0, 250.0),
        // Vacuum to 10 MPa (the networks run at up to 2.5 MPa).
        "MPa" => (-0.1, 10.0),
        "kPa" => (-100.0, 10_000.0),
        "bar" => (-1.0, 100.0),
        "%" => (0.0, 100.0),
        _ => (-MAX_READING_ABS, MAX_READING_ABS),
    }
}

/// What is out of range, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} is out of range: {problem}")]
pub struct OutOfRange {
    /// Where in the record, e.g. `recorded_at`, `payload.readings[2].value`.
    pub field: String,
    pub problem: String,
}

impl OutOfRange {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::OutOfRange
    }
}

fn out(field: impl Into<String>, problem: impl Into<String>) -> OutOfRange {
    OutOfRange {
        field: field.into(),
        problem: problem.into(),
    }
}

type Check = Result<(), OutOfRange>;

/// A time must lie in 2000-01-01 ..< 2200-01-01 (UTC).
pub fn check_time(field: &str, t: DateTime<Utc>) -> Check {
    if t < earliest() || t >= latest() {
        return Err(out(field, format!("{t} is not between 2000 and 2200")));
    }
    Ok(())
}

/// A date must lie in 2000-01-01 ..< 2200-01-01.
pub fn check_date(field: &str, d: NaiveDate) -> Check {
    let (lo, hi) = (earliest().date_naive(), latest().date_naive());
    if d < lo || d >= hi {
        return Err(out(field, format!("{d} is not between 2000 and 2200")));
    }
    Ok(())
}

/// A number must be finite and within `lo..=hi`.
pub fn check_number(field: &str, v: f64, lo: f64, hi: f64) -> Check {
    if !v.is_finite() || v < lo || v > hi {
        return Err(out(field, format!("{v} is not within {lo} ..= {hi}")));
    }
    Ok(())
}

fn check_len(field: &str, s: &str, max: usize) -> Check {
    if too_long(s, max) {
        return Err(out(field, format!("longer than {max} characters")));
    }
    Ok(())
}

/// More than `max` characters? Bytes bound characters from above, so most strings need no count.
fn too_long(s: &str, max: usize) -> bool {
    s.len() > max && s.chars().count() > max
}

/// The generic bounds of any JSON a record carries: strings, lists, objects and depth.
///
/// A field's path (`payload.findings[2].text`) is formatted only for the error: every recorded
/// action walks its payload here, and formatting each string's path was ~4 % of recording one.
pub fn check_json(field: &str, v: &Value) -> Check {
    fn walk(field: &dyn Fn() -> String, v: &Value, depth: usize) -> Check {
        if depth > MAX_DEPTH {
            return Err(out(field(), format!("nested deeper than {MAX_DEPTH}")));
        }
        match v {
            Value::String(s) => check_len_at(field, s),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.is_finite() => Ok(()),
                _ => Err(out(field(), "not a finite number")),
            },
            Value::Array(items) => {
                if items.len() > MAX_ITEMS {
                    return Err(out(field(), format!("more than {MAX_ITEMS} items")));
                }
                for (i, item) in items.iter().enumerate() {
                    walk(&|| format!("{}[{i}]", field()), item, depth + 1)?;
                }
                Ok(())
            }
            Value::Object(map) => {
                if map.len() > MAX_ITEMS {
                    return Err(out(field(), format!("more than {MAX_ITEMS} fields")));
                }
                for (k, item) in map {
                    check_len_at(field, k)?;
                    walk(&|| format!("{}.{k}", field()), item, depth + 1)?;
                }
                Ok(())
            }
            Value::Null | Value::Bool(_) => Ok(()),
        }
    }
    fn check_len_at(field: &dyn Fn() -> String, s: &str) -> Check {
        // The path is formatted only when there is an error to name it in.
        match too_long(s, MAX_TEXT_CHARS) {
            true => check_len(&field(), s, MAX_TEXT_CHARS),
            false => Ok(()),
        }
    }
    walk(&|| field.to_owned(), v, 0)
}

/// The envelope and the payload's generic bounds; for a kind this build knows, also its typed
/// bounds ([`check_body`]). A known kind whose payload does not parse is left to the caller
/// (the office refuses it as `bad_payload`).
pub fn check_event(e: &UnsignedEvent) -> Check {
    check_envelope(e)?;
    match EventBody::from_parts(&e.kind, &e.payload) {
        Ok(body) => check_body(&body),
        Err(_) => Ok(()),
    }
}

/// Time, monotonic clock, kind and the payload's generic bounds.
pub fn check_envelope(e: &UnsignedEvent) -> Check {
    check_time("recorded_at", e.recorded_at)?;
    if e.elapsed_ms > MAX_ELAPSED_MS {
        return Err(out(
            "elapsed_ms",
            format!("{} is more than 100 years", e.elapsed_ms),
        ));
    }
    if e.kind.len() > MAX_KIND_BYTES {
        return Err(out("kind", format!("longer than {MAX_KIND_BYTES} bytes")));
    }
    check_json("payload", &e.payload)
}

fn check_position(field: &str, p: &Position) -> Check {
    if let Some(lat) = p.lat {
        check_number(&format!("{field}.lat"), lat, -90.0, 90.0)?;
    }
    if let Some(lon) = p.lon {
        check_number(&format!("{field}.lon"), lon, -180.0, 180.0)?;
    }
    if let Some(a) = p.accuracy_m {
        check_number(&format!("{field}.accuracy_m"), a, 0.0, 1_000_000.0)?;
    }
    if let Some(t) = p.fixed_at {
        check_time(&format!("{field}.fixed_at"), t)?;
    }
    Ok(())
}

fn check_attachment(field: &str, a: &AttachmentRef) -> Check {
    if a.bytes == 0 || a.bytes > crate::sync::MAX_ATTACHMENT_BYTES {
        return Err(out(
            format!("{field}.bytes"),
            format!(
                "{} is not within 1 ..= {}",
                a.bytes,
                crate::sync::MAX_ATTACHMENT_BYTES
            ),
        ));
    }
    if a.width > MAX_IMAGE_SIDE || a.height > MAX_IMAGE_SIDE {
        return Err(out(
            format!("{field}.width"),
            format!("more than {MAX_IMAGE_SIDE} pixels"),
        ));
    }
    check_len(&format!("{field}.mime"), &a.mime, 100)?;
    if let Some(t) = a.taken_at {
        check_time(&format!("{field}.taken_at"), t)?;
    }
    if let Some(p) = &a.gps {
        check_position(&format!("{field}.gps"), p)?;
    }
    Ok(())
}

fn check_attachments(field: &str, list: &[AttachmentRef]) -> Check {
    for (i, a) in list.iter().enumerate() {
        check_attachment(&format!("{field}[{i}]"), a)?;
    }
    Ok(())
}

fn check_readings(field: &str, readings: &[Reading]) -> Check {
    for (i, r) in readings.iter().enumerate() {
        let (lo, hi) = reading_range(&r.unit);
        check_number(&format!("{field}[{i}].value"), r.value, lo, hi)?;
    }
    Ok(())
}

fn check_evidence(field: &str, e: &StepEvidence) -> Check {
    check_readings(&format!("{field}.readings"), &e.readings)?;
    if let Some(p) = &e.position {
        check_position(&format!("{field}.position"), p)?;
    }
    Ok(())
}

/// The typed bounds of a record: its times, dates, numbers and attachments.
pub fn check_body(body: &EventBody) -> Check {
    match body {
        EventBody::JobCreated { job } => check_job(job),
        EventBody::StepCompleted { evidence, .. } => check_evidence("evidence", evidence),
        EventBody::PhotoAdded { photo, .. } => check_attachment("photo", photo),
        EventBody::SignatureCaptured { image, .. } => check_attachment("image", image),
        EventBody::RatingGiven { stars, .. } | EventBody::OpinionGiven { stars, .. } => {
            check_number("stars", f64::from(*stars), 1.0, 5.0)
        }
        EventBody::DamageRecorded {
            photos,
            customer_signature,
            ..
        }
        | EventBody::NetworkDamageRecorded {
            photos,
            customer_signature,
            ..
        } => {
            check_attachments("photos", photos)?;
            customer_signature
                .as_ref()
                .map_or(Ok(()), |s| check_attachment("customer_signature", s))
        }
        EventBody::NoEntryRecorded { door_photo, .. } => check_attachment("door_photo", door_photo),
        EventBody::RescheduleRequested { preferred, .. } => {
            check_time("preferred.start", preferred.start)?;
            check_time("preferred.end", preferred.end)?;
            if preferred.end < preferred.start {
                return Err(out("preferred", "ends before it starts"));
            }
            Ok(())
        }
        EventBody::FindingRecorded { photos, .. } => check_attachments("photos", photos),
        EventBody::NoticeIssued {
            deadline,
            follow_up_on,
            ..
        } => {
            check_date("deadline", *deadline)?;
            follow_up_on.map_or(Ok(()), |d| check_date("follow_up_on", d))
        }
        EventBody::ReadingRecorded { readings, .. } => check_readings("readings", readings),
        EventBody::DefectReported {
            position, photos, ..
        } => {
            check_position("position", position)?;
            check_attachments("photos", photos)
        }
        EventBody::AccidentReported { position, .. } => check_position("position", position),
        EventBody::CheckpointConfirmed { position, .. } => match position {
            Some(p) => check_position("position", p),
            None => Ok(()),
        },
        EventBody::ShiftReadinessConfirmed { day, .. } => check_date("day", *day),
        EventBody::StepSkipped { .. }
        | EventBody::SignatureDeclined { .. }
        | EventBody::JobClosed { .. }
        | EventBody::Correction { .. } => Ok(()),
    }
}

fn check_spec(field: &str, s: &ReadingSpec) -> Check {
    let (lo, hi) = (-MAX_READING_ABS, MAX_READING_ABS);
    if let Some(v) = s.normal_min {
        check_number(&format!("{field}.normal_min"), v, lo, hi)?;
    }
    if let Some(v) = s.normal_max {
        check_number(&format!("{field}.normal_max"), v, lo, hi)?;
    }
    Ok(())
}

/// A job's times, window, checkpoints and revision (a job a device creates, or the office
/// dispatches).
pub fn check_job(job: &Job) -> Check {
    if let Some(t) = job.reported_at {
        check_time("job.reported_at", t)?;
    }
    if let Some(w) = job.window {
        check_time("job.window.start", w.start)?;
        check_time("job.window.end", w.end)?;
        if w.end < w.start {
            return Err(out("job.window", "ends before it starts"));
        }
    }
    if let Some(m) = job.utc_offset_minutes
        && !(-crate::job::MAX_UTC_OFFSET_MINUTES..=crate::job::MAX_UTC_OFFSET_MINUTES).contains(&m)
    {
        return Err(out(
            "job.utc_offset_minutes",
            format!(
                "{m} is not within -{0} ..= {0}",
                crate::job::MAX_UTC_OFFSET_MINUTES
            ),
        ));
    }
    if job.checkpoints.len() > MAX_ITEMS {
        return Err(out(
            "job.checkpoints",
            format!("more than {MAX_ITEMS} items"),
        ));
    }
    for (i, cp) in job.checkpoints.iter().enumerate() {
        if let Some(m) = cp.interval_minutes
            && (m == 0 || m > MAX_INTERVAL_MINUTES)
        {
            return Err(out(
                format!("job.checkpoints[{i}].interval_minutes"),
                format!("{m} is not within 1 ..= {MAX_INTERVAL_MINUTES}"),
            ));
        }
        if cp.readings.len() > MAX_ITEMS {
            return Err(out(
                format!("job.checkpoints[{i}].readings"),
                format!("more than {MAX_ITEMS} items"),
            ));
        }
        for (k, s) in cp.readings.iter().enumerate() {
            check_spec(&format!("job.checkpoints[{i}].readings[{k}]"), s)?;
        }
    }
    if job.revision > MAX_REVISION {
        return Err(out("job.revision", "not an exact JSON number"));
    }
    Ok(())
}

/// `t + d`, or the end of chrono's range instead of a panic: what every reader computes over
/// stored times with, so a stored extreme value shows as extreme and never fails a read.
pub fn add_saturating(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(if d < TimeDelta::zero() {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// `t` plus a number of milliseconds (a device's clock offset), saturating like [`add_saturating`].
pub fn add_millis_saturating(t: DateTime<Utc>, ms: i64) -> DateTime<Utc> {
    add_saturating(
        t,
        TimeDelta::try_milliseconds(ms).unwrap_or(if ms < 0 {
            TimeDelta::MIN
        } else {
            TimeDelta::MAX
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounds_are_the_documented_dates() {
        assert_eq!(
            earliest().to_rfc3339(),
            "2000-01-01T00:00:00+00:00",
            "EARLIEST_UNIX is 2000-01-01"
        );
        assert_eq!(
            latest().to_rfc3339(),
            "2200-01-01T00:00:00+00:00",
            "LATEST_UNIX is 2200-01-01"
        );
    }

    #[test]
    fn saturating_arithmetic_never_panics() {
        let max = DateTime::<Utc>::MAX_UTC;
        let min = DateTime::<Utc>::MIN_UTC;
        assert_eq!(
            add_saturating(max, TimeDelta::hours(4)),
            max,
            "saturates up"
        );
        assert_eq!(add_saturating(min, TimeDelta::hours(-4)), min, "and down");
        assert_eq!(add_millis_saturating(max, i64::MAX), max, "any offset");
        assert_eq!(add_millis_saturating(min, i64::MIN), min, "any offset");
        let t = earliest();
        assert_eq!(
            add_millis_saturating(t, 1000),
            t + TimeDelta::seconds(1),
            "in range it is plain addition"
        );
    }

    #[test]
    fn json_bounds_catch_long_wide_and_deep_payloads() {
        let long = Value::String("热".repeat(MAX_TEXT_CHARS + 1));
        assert!(check_json("p", &long).is_err(), "a string too long");
        let ok = Value::String("热".repeat(MAX_TEXT_CHARS));
        assert!(
            check_json("p", &ok).is_ok(),
            "the limit counts characters, not bytes"
        );
        let wide = Value::Array(vec![Value::Null; MAX_ITEMS + 1]);
        assert!(check_json("p", &wide).is_err(), "a list too long");
        let mut deep = Value::Null;
        for _ in 0..=MAX_DEPTH + 1 {
            deep = Value::Array(vec![deep]);
        }
        let err = check_json("p", &deep).expect_err("too deep");
        assert!(err.field.starts_with("p[0]"), "names where: {err}");
    }

    #[test]
    fn json_bounds_name_the_path_of_a_long_string_or_key() {
        let long = "热".repeat(MAX_TEXT_CHARS + 1);
        let value = serde_json::json!({"findings": [{"text": "ok"}, {"text": long}]});
        let err = check_json("payload", &value).expect_err("a string too long");
        assert_eq!(err.field, "payload.findings[1].text", "{err}");
        assert_eq!(
            err.problem,
            format!("longer than {MAX_TEXT_CHARS} characters")
        );
        let mut map = serde_json::Map::new();
        map.insert(long, Value::Null);
        let value = serde_json::json!({"notes": [Value::Object(map)]});
        let err = check_json("payload", &value).expect_err("a key too long");
        assert_eq!(
            err.field, "payload.notes[0]",
            "the object holding it: {err}"
        );
    }
}
