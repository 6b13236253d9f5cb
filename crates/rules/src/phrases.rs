//! The standard phrases (统一服务用语) with the speaker's own details: the templates hold
//! placeholders — `{company}`, `{name}`, `{badge}`, `{hotline}`, `{window}` — and the device fills
//! them from the signed-in technician's profile, the company details the office set (pulled with
//! sync) and the job's appointment. Nothing company-specific is written into a template.

use crate::lang::Localized;

/// What the placeholders stand for; an empty value reads as a neutral word, never as "××".
#[derive(Debug, Clone, Copy, Default)]
pub struct Details<'a> {
    /// The company's name (from the office's company profile).
    pub company: &'a str,
    /// The technician's name as the office knows them.
    pub name: &'a str,
    /// The service badge number worn on the left chest.
    pub badge: &'a str,
    /// The company's service hotline.
    pub hotline: &'a str,
    /// The appointment window, already in the device's local time (e.g. `14:00–16:00`).
    pub window: &'a str,
}

/// `text` with every placeholder filled, in both languages.
pub fn fill(text: &Localized, d: &Details<'_>) -> Localized {
    Localized::new(fill_one(&text.zh, d, ZH), fill_one(&text.en, d, EN))
}

/// Neutral words for a detail that is not known yet (before the first sync, a user without a
/// badge number): (company, name, badge, hotline, window).
type Fallbacks = [&'static str; 5];
const ZH: Fallbacks = ["供热公司", "", "—", "供热服务热线", "约定的时间"];
const EN: Fallbacks = [
    "the heating company",
    "your technician",
    "—",
    "the service hotline",
    "the agreed time",
];

fn fill_one(text: &str, d: &Details<'_>, fallback: Fallbacks) -> String {
    let or = |v: &str, i: usize| {
        let v = v.trim();
        if v.is_empty() {
            fallback[i].to_owned()
        } else {
            v.to_owned()
        }
    };
    text.replace("{company}", &or(d.company, 0))
        .replace("{name}", &or(d.name, 1))
        .replace("{badge}", &or(d.badge, 2))
        .replace("{hotline}", &or(d.hotline, 3))
        .replace("{window}", &or(d.window, 4))
}

/// Whether a text still holds a placeholder or the old "××" blanks (a template test uses it).
pub fn has_blanks(text: &str) -> bool {
    text.contains("××")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_placeholder_and_falls_back_to_neutral_words() {
        let phrase = Localized::new(
            "您好，我是{company}维修人员{name}，工号{badge}。热线{hotline}，{window}",
            "I am {name} from {company}, badge {badge}; {hotline}; {window}",
        );
        let d = Details {
            company: "滨江热力公司",
            name: "张师傅",
            badge: "RX-0012",
            hotline: "0571-96069",
            window: "14:00–16:00",
        };
        let got = fill(&phrase, &d);
        assert_eq!(
            got.zh,
            "您好，我是滨江热力公司维修人员张师傅，工号RX-0012。热线0571-96069，14:00–16:00",
            "every detail in its place"
        );
        assert!(
            !got.en.contains('{'),
            "no placeholder left in English either: {}",
            got.en
        );
        let blank = fill(&phrase, &Details::default());
        assert!(
            !blank.zh.contains('{') && !has_blanks(&blank.zh),
            "no braces or ×× before the first sync: {}",
            blank.zh
        );
        assert!(
            blank.zh.contains("供热公司"),
            "a neutral word for an unknown company: {}",
            blank.zh
        );
    }
}
