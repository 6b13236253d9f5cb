//! The little EXIF the office needs as evidence (capture time, position) and the orientation to
//! apply. Everything else in the EXIF block is dropped by re-encoding.
//!
//! A broken or absent EXIF block never fails the photo: the picture is still evidence, only
//! without time and place.

use std::fmt;
use std::io::{BufRead, Cursor, Seek};
use std::panic::AssertUnwindSafe;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use exif::{Exif, In, Tag, Value};
use serde::{Serialize, Serializer};

/// What was read from the photo's EXIF.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaptureMetadata {
    /// EXIF orientation 1..=8 (1 when absent or invalid).
    pub orientation: u8,
    /// When the shutter was pressed, as the camera recorded it.
    pub taken_at: Option<TakenAt>,
    /// Where, if the camera had a position fix.
    pub gps: Option<GpsPosition>,
}

/// Capture time from EXIF `DateTimeOriginal`: the camera's local wall-clock time, plus the UTC
/// offset when the camera recorded one (`OffsetTimeOriginal`, most phones since 2018).
///
/// Without an offset the instant is unknown, so no UTC time is invented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TakenAt {
    /// Local wall-clock time on the camera.
    pub local: NaiveDateTime,
    /// Offset from UTC in minutes, when recorded.
    pub utc_offset_minutes: Option<i16>,
}

impl TakenAt {
    /// The instant in UTC, when the offset is known.
    pub fn to_utc(&self) -> Option<DateTime<Utc>> {
        let offset = FixedOffset::east_opt(i32::from(self.utc_offset_minutes?) * 60)?;
        let at = offset.from_local_datetime(&self.local).single()?;
        Some(at.with_timezone(&Utc))
    }
}

impl fmt::Display for TakenAt {
    /// RFC 3339 when the offset is known (`2020-02-19T16:35:05+08:00`), otherwise the local time
    /// without a zone (`2020-02-19T16:35:05`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.local.format("%Y-%m-%dT%H:%M:%S"))?;
        if let Some(minutes) = self.utc_offset_minutes {
            let sign = if minutes < 0 { '-' } else { '+' };
            let m = minutes.unsigned_abs();
            write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)?;
        }
        Ok(())
    }
}

impl Serialize for TakenAt {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// WGS84 position in decimal degrees (north and east positive).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GpsPosition {
    /// Latitude, −90..=90.
    pub lat: f64,
    /// Longitude, −180..=180.
    pub lon: f64,
}

/// Reads orientation, capture time and GPS from the EXIF block of a JPEG, PNG or WebP file.
pub fn read_capture_metadata(bytes: &[u8]) -> CaptureMetadata {
    read_capture_metadata_from(&mut Cursor::new(bytes))
}

/// As [`read_capture_metadata`], from a seekable stream positioned anywhere.
pub(crate) fn read_capture_metadata_from<R: BufRead + Seek>(reader: &mut R) -> CaptureMetadata {
    let none = CaptureMetadata {
        orientation: 1,
        ..CaptureMetadata::default()
    };
    if reader.rewind().is_err() {
        return none;
    }
    // The EXIF parser reads hostile bytes too; a panic in it costs the metadata, not the app.
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        let exif = exif::Reader::new().read_from_container(reader).ok()?;
        Some(CaptureMetadata {
            orientation: orientation(&exif),
            taken_at: taken_at(&exif),
            gps: gps(&exif),
        })
    }))
    .ok()
    .flatten()
    .unwrap_or(none)
}

fn orientation(exif: &Exif) -> u8 {
    exif.get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|v| u8::try_from(v).ok())
        .filter(|v| (1..=8).contains(v))
        .unwrap_or(1)
}

fn ascii(exif: &Exif, tag: Tag) -> Option<&[u8]> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(values) => values.first().map(Vec::as_slice),
        _ => None,
    }
}

fn taken_at(exif: &Exif) -> Option<TakenAt> {
    // DateTimeOriginal is the shutter time; DateTime is when the file was last changed (editors
    // rewrite it), so it is only a fallback.
    let (raw, offset_tag) = match ascii(exif, Tag::DateTimeOriginal) {
        Some(raw) => (raw, Tag::OffsetTimeOriginal),
        None => (ascii(exif, Tag::DateTime)?, Tag::OffsetTime),
    };
    let mut dt = exif::DateTime::from_ascii(raw).ok()?;
    if let Some(offset) = ascii(exif, offset_tag) {
        // An unreadable offset leaves the time zone-less rather than dropping the time.
        if dt.parse_offset(offset).is_err() {
            dt.offset = None;
        }
    }
    let date = NaiveDate::from_ymd_opt(i32::from(dt.year), dt.month.into(), dt.day.into())?;
    let local = date.and_hms_opt(dt.hour.into(), dt.minute.into(), dt.second.into())?;
    let utc_offset_minutes = dt.offset.filter(|m| m.unsigned_abs() <= 18 * 60);
    Some(TakenAt {
        local,
        utc_offset_minutes,
    })
}

fn gps(exif: &Exif) -> Option<GpsPosition> {
    let lat = degrees(exif, Tag::GPSLatitude)? * hemisphere(exif, Tag::GPSLatitudeRef, b'S')?;
    let lon = degrees(exif, Tag::GPSLongitude)? * hemisphere(exif, Tag::GPSLongitudeRef, b'W')?;
    let valid = lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0;
    // Cameras without a fix sometimes write 0/0; "null island" is never a district-heating site.
    let no_fix = lat == 0.0 && lon == 0.0;
    // 1e-7° is about 1 cm: more digits are float noise from the DMS sum.
    let round = |v: f64| (v * 1e7).round() / 1e7;
    (valid && !no_fix).then_some(GpsPosition {
        lat: round(lat),
        lon: round(lon),
    })
}

/// Degrees, minutes, seconds as three rationals → decimal degrees.
fn degrees(exif: &Exif, tag: Tag) -> Option<f64> {
    let Value::Rational(parts) = &exif.get_field(tag, In::PRIMARY)?.value else {
        return None;
    };
    let part = |i: usize| -> Option<f64> {
        let r = parts.get(i)?;
        (r.denom != 0).then(|| f64::from(r.num) / f64::from(r.denom))
    };
    let d = part(0)?;
    // Some cameras write only degrees, or degrees and decimal minutes.
    let m = if parts.len() > 1 { part(1)? } else { 0.0 };
    let s = if parts.len() > 2 { part(2)? } else { 0.0 };
    Some(d + m / 60.0 + s / 3600.0)
}

/// +1 or −1 from the N/S or E/W reference; a missing or unknown reference means no position.
fn hemisphere(exif: &Exif, tag: Tag, negative: u8) -> Option<f64> {
    let r = *ascii(exif, tag)?.first()?;
    match r.to_ascii_uppercase() {
        b'N' | b'E' => Some(1.0),
        c if c == negative => Some(-1.0),
        _ => None,
    }
}
