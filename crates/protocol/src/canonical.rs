//! The canonical bytes of an event payload: what the event hash covers. Specified in
//! `docs/evidence.md` so that anyone can re-implement it; written here by hand, so that no library's
//! output format (serde_json's number rendering changed once already) can change a hash.
//!
//! Two formats, both verifiable forever:
//! - [`Format::V1`] (events without a `format` field): object keys sorted bytewise by UTF-8, strings
//!   escaped as JSON requires (`"`, `\`, control characters), integers in decimal, other numbers in
//!   the rendering serde_json used when the event was sealed. serde_json used two renderings over
//!   time ([`LegacyNumbers`]), which differ only in the `+` of positive exponents (`1e16` /
//!   `1e+16`); a verifier accepts a format-1 event whose hash matches either.
//! - [`Format::V2`] (every new event): RFC 8785 (JSON Canonicalization Scheme): keys sorted by UTF-16
//!   code units, the same string escaping, numbers as ECMAScript writes them (`Number::toString`),
//!   with one restriction that keeps every number exact in every language: no number may have a
//!   magnitude of 2^53 or more ([`check_v2`]).
//!
//! Numbers are rendered from their shortest round-trip decimal digits, which Rust's own `{:e}`
//! formatting gives (shortest, and closest to the value among the shortest); the layout rules are
//! ours and written down.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Number, Value};

/// Which canonical encoding an event's hash covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Format {
    /// Events sealed before the format was versioned (no `format` field on the wire).
    #[default]
    V1,
    /// RFC 8785 payloads with magnitudes below 2^53; what devices seal now.
    V2,
}

impl Format {
    /// What a device seals today.
    pub const CURRENT: Format = Format::V2;

    pub fn number(self) -> u8 {
        match self {
            Format::V1 => 1,
            Format::V2 => 2,
        }
    }

    /// The domain-separation tag at the start of an event's canonical bytes.
    pub fn event_tag(self) -> &'static [u8] {
        match self {
            Format::V1 => b"heatcrew.event.v1\n",
            Format::V2 => b"heatcrew.event.v2\n",
        }
    }

    pub fn is_v1(&self) -> bool {
        *self == Format::V1
    }
}

impl Serialize for Format {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.number())
    }
}

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u8::deserialize(d)? {
            1 => Ok(Format::V1),
            2 => Ok(Format::V2),
            n => Err(serde::de::Error::custom(format!(
                "unknown canonical format {n} (this build knows 1 and 2)"
            ))),
        }
    }
}

/// The two number renderings that format 1 met in the field (serde_json's, before and after it
/// moved from `ryu` to `zmij`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyNumbers {
    /// `1e16`, `1.5e-7`: no sign on positive exponents.
    PlainExponent,
    /// `1e+16`, `1.5e-7`: `+` on positive exponents.
    SignedExponent,
}

/// The largest magnitude (exclusive) a format-2 number may have: 2^53, below which every integer
/// is exactly representable as an IEEE-754 double.
pub const V2_MAX_MAGNITUDE: f64 = 9_007_199_254_740_992.0;

/// Why a payload cannot be encoded in format 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("number {0} has a magnitude of 2^53 or more, which format 2 does not allow")]
pub struct NotExact(pub String);

/// Format-1 canonical bytes of a payload.
pub fn payload_v1(value: &Value, numbers: LegacyNumbers) -> Vec<u8> {
    let mut out = Vec::new();
    write_v1(value, numbers, &mut out);
    out
}

/// Format-2 canonical bytes of a payload (RFC 8785). Numbers of magnitude ≥ 2^53 are still
/// rendered (deterministically) but make the event invalid: see [`check_v2`].
pub fn payload_v2(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_v2(value, &mut out);
    out
}

/// Whether every number of a payload is allowed in format 2.
pub fn check_v2(value: &Value) -> Result<(), NotExact> {
    match value {
        Value::Number(n) => {
            let exact = match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => u < 1 << 53,
                (_, Some(i), _) => i.unsigned_abs() < 1 << 53,
                (_, _, Some(f)) => f.is_finite() && f.abs() < V2_MAX_MAGNITUDE,
                _ => false,
            };
            if exact {
                Ok(())
            } else {
                Err(NotExact(n.to_string()))
            }
        }
        Value::Array(items) => items.iter().try_for_each(check_v2),
        Value::Object(map) => map.values().try_for_each(check_v2),
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
    }
}

/// Whether a format-1 payload's two number renderings differ at all (only then is the second one
/// worth computing).
pub fn v1_renderings_differ(value: &Value) -> bool {
    match value {
        Value::Number(n) => n
            .as_f64()
            .filter(|_| n.is_f64())
            .is_some_and(|f| f != 0.0 && f.is_finite() && shortest(f).exponent >= 16),
        Value::Array(items) => items.iter().any(v1_renderings_differ),
        Value::Object(map) => map.values().any(v1_renderings_differ),
        _ => false,
    }
}

fn write_v1(value: &Value, numbers: LegacyNumbers, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            write_object(entries, out, |v, out| write_v1(v, numbers, out));
        }
        Value::Array(items) => write_array(items, out, |v, out| write_v1(v, numbers, out)),
        Value::String(s) => write_string(s, out),
        Value::Number(n) => write_number_v1(n, numbers, out),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Null => out.extend_from_slice(b"null"),
    }
}

fn write_v2(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            // RFC 8785 §3.2.3: by UTF-16 code units (differs from UTF-8 byte order only when a key
            // holds characters above U+FFFF next to ones in U+E000..U+FFFF).
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            write_object(entries, out, write_v2);
        }
        Value::Array(items) => write_array(items, out, write_v2),
        Value::String(s) => write_string(s, out),
        Value::Number(n) => write_number_v2(n, out),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Null => out.extend_from_slice(b"null"),
    }
}

fn write_object(
    entries: Vec<(&String, &Value)>,
    out: &mut Vec<u8>,
    mut write: impl FnMut(&Value, &mut Vec<u8>),
) {
    out.push(b'{');
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(k, out);
        out.push(b':');
        write(v, out);
    }
    out.push(b'}');
}

fn write_array(items: &[Value], out: &mut Vec<u8>, mut write: impl FnMut(&Value, &mut Vec<u8>)) {
    out.push(b'[');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(v, out);
    }
    out.push(b']');
}

/// A JSON string: `"` and `\` escaped with a backslash, U+0008/9/A/C/D as `\b \t \n \f \r`, other
/// characters below U+0020 as `\u00xx` (lowercase hex), everything else as its UTF-8 bytes.
/// (RFC 8785 §3.2.2.2; serde_json escapes exactly so too, which format 1 relied on.)
fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{08}' => out.extend_from_slice(b"\\b"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\u{0c}' => out.extend_from_slice(b"\\f"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// The shortest decimal digits that read back as the same double, and the exponent of the first
/// digit: `value = ±d.ddd × 10^exponent`. Zero is `("0", 0)`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shortest {
    negative: bool,
    digits: String,
    exponent: i32,
}

fn shortest(f: f64) -> Shortest {
    // Rust's `{:e}` prints the shortest round-trip digits (closest to the value among them) as
    // `-d.ddde-x`; only the digits and the exponent are taken from it, the layout is ours.
    let s = format!("{f:e}");
    let (mantissa, exponent) = s.split_once('e').expect("{:e} always writes an exponent");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    Shortest {
        negative,
        digits,
        exponent: exponent.parse().expect("{:e} writes a decimal exponent"),
    }
}

/// Format 1: integers in decimal; other numbers as serde_json wrote them: fixed notation for
/// exponents −5…15 (with `.0` when integral), otherwise `d.ddde±x`.
fn write_number_v1(n: &Number, numbers: LegacyNumbers, out: &mut Vec<u8>) {
    if let Some(u) = n.as_u64() {
        return out.extend_from_slice(u.to_string().as_bytes());
    }
    if let Some(i) = n.as_i64() {
        return out.extend_from_slice(i.to_string().as_bytes());
    }
    let f = n.as_f64().unwrap_or(0.0);
    let s = shortest(f);
    if s.negative {
        out.push(b'-');
    }
    let digits = s.digits.as_bytes();
    let len = digits.len() as i32;
    let e = s.exponent;
    if f == 0.0 {
        out.extend_from_slice(b"0.0");
    } else if (0..=15).contains(&e) {
        if e >= len - 1 {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', (e - (len - 1)) as usize));
            out.extend_from_slice(b".0");
        } else {
            out.extend_from_slice(&digits[..=e as usize]);
            out.push(b'.');
            out.extend_from_slice(&digits[e as usize + 1..]);
        }
    } else if (-5..0).contains(&e) {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-e - 1) as usize));
        out.extend_from_slice(digits);
    } else {
        write_exponential(digits, e, numbers == LegacyNumbers::SignedExponent, out);
    }
}

/// Format 2: ECMAScript `Number::toString` (RFC 8785 §3.2.2.3): fixed notation for exponents
/// −6…20, integral values without a fraction, otherwise `d.ddde±x` with the sign always written.
fn write_number_v2(n: &Number, out: &mut Vec<u8>) {
    // Integers below 2^53 are doubles exactly, and ECMAScript writes them in plain decimal;
    // larger ones are invalid in format 2 and rendered through their double value.
    if let Some(u) = n.as_u64().filter(|u| *u < 1 << 53) {
        return out.extend_from_slice(u.to_string().as_bytes());
    }
    if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() < 1 << 53) {
        return out.extend_from_slice(i.to_string().as_bytes());
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f == 0.0 {
        return out.push(b'0');
    }
    let s = shortest(f);
    if s.negative {
        out.push(b'-');
    }
    let digits = s.digits.as_bytes();
    let k = digits.len() as i32;
    // ECMAScript's n: the value is 0.d1d2… × 10^n.
    let n = s.exponent + 1;
    if k <= n && n <= 21 {
        out.extend_from_slice(digits);
        out.extend(std::iter::repeat_n(b'0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.extend_from_slice(&digits[..n as usize]);
        out.push(b'.');
        out.extend_from_slice(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-n) as usize));
        out.extend_from_slice(digits);
    } else {
        write_exponential(digits, s.exponent, true, out);
    }
}

fn write_exponential(digits: &[u8], exponent: i32, plus: bool, out: &mut Vec<u8>) {
    out.push(digits[0]);
    if digits.len() > 1 {
        out.push(b'.');
        out.extend_from_slice(&digits[1..]);
    }
    out.push(b'e');
    if exponent >= 0 && plus {
        out.push(b'+');
    }
    out.extend_from_slice(exponent.to_string().as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v1(v: &Value, numbers: LegacyNumbers) -> String {
        String::from_utf8(payload_v1(v, numbers)).expect("utf8")
    }

    fn v2(v: &Value) -> String {
        String::from_utf8(payload_v2(v)).expect("utf8")
    }

    fn num(f: f64) -> Value {
        Value::Number(Number::from_f64(f).expect("finite"))
    }

    #[test]
    fn format_1_numbers_match_both_renderings_serde_json_used() {
        let cases = [
            0.0, -0.0, 1.0, 1.5, 500.0, 0.1, 1e-5, 1.5e-5, 1e-6, 1e-7, 123456.789,
        ];
        for f in cases
            .into_iter()
            .chain([
                1e15,
                1.5e15,
                1e16,
                1.5e16,
                1e21,
                1.7976931348623157e308,
                5e-324,
            ])
            .chain([123456789012345680.0, 0.000123, -2.5e-8, 39.9042, -116.4074])
        {
            let mut ryu_buf = ryu::Buffer::new();
            let mut zmij_buf = zmij::Buffer::new();
            assert_eq!(
                v1(&num(f), LegacyNumbers::PlainExponent),
                ryu_buf.format_finite(f),
                "format 1 as serde_json wrote it with ryu: {f:e}"
            );
            assert_eq!(
                v1(&num(f), LegacyNumbers::SignedExponent),
                zmij_buf.format_finite(f),
                "format 1 as serde_json wrote it with zmij: {f:e}"
            );
        }
    }

    #[test]
    fn format_1_is_what_serde_json_wrote_for_whole_payloads() {
        let v =
            json!({"b": 1, "a": {"d": "é\n\u{1f}\"\\/", "c": [true, null, -3, 2.5]}, "z": 95.25});
        assert_eq!(
            v1(&v, LegacyNumbers::SignedExponent),
            r#"{"a":{"c":[true,null,-3,2.5],"d":"é\n\u001f\"\\/"},"b":1,"z":95.25}"#,
            "sorted keys, no whitespace, JSON escapes"
        );
        assert!(
            !v1_renderings_differ(&v),
            "no exponent-form number: one rendering"
        );
        assert!(
            v1_renderings_differ(&json!({"x": [1e16]})),
            "1e16 is where the two renderings part"
        );
    }

    #[test]
    fn format_2_numbers_are_ecmascript_numbers() {
        // From RFC 8785 appendix B and ECMAScript's Number::toString.
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (9007199254740991.0, "9007199254740991"),
            (295147905179352830000.0, "295147905179352830000"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (0.000001234, "0.000001234"),
            (123e-9, "1.23e-7"),
            (4.50, "4.5"),
            (2e-3, "0.002"),
            (0.1, "0.1"),
            (333333333.3333332, "333333333.3333332"),
            (1e23, "1e+23"),
            (39.9042, "39.9042"),
        ];
        for (f, want) in cases {
            assert_eq!(v2(&num(*f)), *want, "ECMAScript rendering of {f:e}");
        }
        assert_eq!(v2(&json!(42)), "42", "integers in decimal");
        assert_eq!(v2(&json!(-42)), "-42", "negative integers in decimal");
        assert_eq!(
            v2(&json!(5.0)),
            v2(&json!(5)),
            "5.0 and 5 are the same number"
        );
    }

    #[test]
    fn format_2_sorts_keys_by_utf16_code_units() {
        // U+FB01 (ﬁ) sorts after U+1F600 (😀) in UTF-8 bytes but before it in UTF-16 units.
        let v = json!({"\u{1F600}": 1, "\u{FB01}": 2, "a": 3});
        assert_eq!(
            v2(&v),
            "{\"a\":3,\"\u{1F600}\":1,\"\u{FB01}\":2}",
            "surrogates (D83D) sort before U+FB01 in UTF-16"
        );
        assert_eq!(
            v1(&v, LegacyNumbers::PlainExponent),
            "{\"a\":3,\"\u{FB01}\":2,\"\u{1F600}\":1}",
            "format 1 keeps its UTF-8 byte order"
        );
    }

    #[test]
    fn format_2_allows_only_exact_numbers() {
        assert!(
            check_v2(&json!({"a": [1, -2.5, 9007199254740991u64]})).is_ok(),
            "ordinary numbers"
        );
        assert!(
            check_v2(&json!({"a": 9007199254740992u64})).is_err(),
            "2^53 is too big"
        );
        assert!(
            check_v2(&json!([-9007199254740992i64])).is_err(),
            "so is -2^53"
        );
        assert!(check_v2(&json!({"a": {"b": 1e300}})).is_err(), "and 1e300");
    }

    #[test]
    fn parsing_is_exact() {
        // serde_json's default float parser is not correctly rounded; with `float_roundtrip` a
        // value survives the wire unchanged, so the office hashes what the device hashed.
        for text in [
            "0.30000000000000004",
            "2.2250738585072014e-308",
            "1.7976931348623157e308",
            "9007199254740993.0",
            "8.98846567431158e307",
            "0.1e-5",
            "123456789012345678901234567890e-10",
        ] {
            let f: f64 = text.parse().expect("std parses correctly rounded");
            let via_json: Value = serde_json::from_str(text).expect("json");
            assert_eq!(
                via_json.as_f64().map(f64::to_bits),
                Some(f.to_bits()),
                "serde_json must parse {text} exactly as the correctly rounded double"
            );
            let again: Value = serde_json::from_slice(&payload_v2(&via_json)).expect("json");
            assert_eq!(
                again.as_f64().map(f64::to_bits),
                Some(f.to_bits()),
                "{text}: its canonical rendering reads back as the same double"
            );
        }
    }
}
