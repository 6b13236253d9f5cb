//! Which outage notices (停热通知) a crew at a customer's door must know about: those in force now
//! whose area covers the customer's address, so the technician can tell the customer the expected
//! restoration time (告知客户预计恢复供热的大致时间).
//!
//! Areas are written the way dispatchers write them: a place (`幸福小区`, `建设路`), a building
//! (`幸福小区3号楼`) or a range of buildings (`滨河小区1-8号楼`), several joined by `、`, `，` or `;`.

use chrono::{DateTime, Utc};
use heatcrew_protocol::OutageNotice;

/// The notices in force at `now` (started, not yet cleared by the office) that cover `address`,
/// soonest restoration first.
pub fn at_address<'a>(
    notices: &'a [OutageNotice],
    address: &str,
    now: DateTime<Utc>,
) -> Vec<&'a OutageNotice> {
    let mut out: Vec<&OutageNotice> = notices
        .iter()
        .filter(|n| n.starts_at <= now && covers(&n.area, address))
        .collect();
    out.sort_by_key(|n| n.expected_restore_at);
    out
}

/// Whether an outage area covers an address.
pub fn covers(area: &str, address: &str) -> bool {
    let address = squeeze(address);
    if address.is_empty() {
        return false;
    }
    area.split(['、', '，', ',', ';', '；'])
        .map(squeeze)
        .filter(|part| !part.is_empty())
        .any(|part| part_covers(&part, &address))
}

fn part_covers(part: &str, address: &str) -> bool {
    let Some((place, from, to)) = buildings(part) else {
        return address.contains(part);
    };
    let Some(at) = address.find(&place) else {
        return false;
    };
    match leading_number(&address[at + place.len()..]) {
        // The address names a building of the place: covered if it is in the range.
        Some((n, rest)) if rest.starts_with("号楼") || rest.starts_with('栋') => {
            (from..=to).contains(&n)
        }
        // The place without a building number: the crew should know anyway.
        _ => true,
    }
}

/// `滨河小区1-8号楼` → (`滨河小区`, 1, 8); `幸福小区3号楼` → (`幸福小区`, 3, 3).
fn buildings(part: &str) -> Option<(String, u32, u32)> {
    let body = part
        .strip_suffix("号楼")
        .or_else(|| part.strip_suffix('栋'))?;
    let (head, to) = trailing_number(body)?;
    if let Some(before) = head
        .strip_suffix('-')
        .or_else(|| head.strip_suffix('~'))
        .or_else(|| head.strip_suffix('至'))
        .or_else(|| head.strip_suffix('到'))
        && let Some((place, from)) = trailing_number(before)
        && !place.is_empty()
    {
        return Some((place.to_owned(), from.min(to), from.max(to)));
    }
    (!head.is_empty()).then(|| (head.to_owned(), to, to))
}

fn trailing_number(s: &str) -> Option<(&str, u32)> {
    let start = s
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()?
        .0;
    Some((&s[..start], s[start..].parse().ok()?))
}

fn leading_number(s: &str) -> Option<(u32, &str)> {
    let end = s
        .char_indices()
        .find(|(_, c)| !c.is_ascii_digit())
        .map_or(s.len(), |(i, _)| i);
    if end == 0 {
        return None;
    }
    Some((s[..end].parse().ok()?, &s[end..]))
}

/// Without spaces, dashes of other widths made plain.
fn squeeze(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '－' | '—' | '–' | '～' => '-',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use uuid::Uuid;

    #[test]
    fn areas_as_dispatchers_write_them() {
        let cases = [
            (
                "滨河小区1-8号楼",
                "滨河小区7号楼3单元402室",
                true,
                "in the range",
            ),
            (
                "滨河小区1-8号楼",
                "滨河小区12号楼1单元101室",
                false,
                "past the range",
            ),
            (
                "滨河小区1-8号楼",
                "滨河小区1号楼",
                true,
                "the range's first building",
            ),
            (
                "滨河小区1 - 8 号楼",
                "滨河小区 8号楼",
                true,
                "spaces do not matter",
            ),
            ("滨河小区1-8号楼", "幸福小区7号楼", false, "another estate"),
            (
                "滨河小区1-8号楼",
                "滨河小区物业楼",
                true,
                "the estate without a number",
            ),
            ("幸福小区3号楼", "幸福小区3号楼2单元", true, "one building"),
            ("幸福小区3号楼", "幸福小区13号楼2单元", false, "13 is not 3"),
            ("建设路", "建设路18号", true, "a street"),
            ("东风小区、幸福小区2-4栋", "幸福小区3栋", true, "a list"),
            ("东风小区", "", false, "no address"),
        ];
        for (area, address, want, why) in cases {
            assert_eq!(covers(area, address), want, "{area} / {address}: {why}");
        }
    }

    #[test]
    fn only_notices_in_force_soonest_first() {
        let now = Utc::now();
        let notice = |area: &str, starts: i64, restore: i64| OutageNotice {
            id: Uuid::now_v7(),
            area: area.into(),
            reason: "抢修".into(),
            starts_at: now + Duration::hours(starts),
            expected_restore_at: now + Duration::hours(restore),
        };
        let notices = [
            notice("滨河小区", -1, 6),
            notice("滨河小区1-8号楼", -2, 3),
            notice("滨河小区", 2, 8),
            notice("幸福小区", -1, 3),
        ];
        let got = at_address(&notices, "滨河小区7号楼3单元402室", now);
        assert_eq!(
            got.len(),
            2,
            "a notice not started yet and another estate's are left out"
        );
        assert_eq!(got[0].id, notices[1].id, "the soonest restoration first");
    }
}
