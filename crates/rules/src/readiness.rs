//! Shift readiness (上岗前做好准备工作): before the first job of the day a repair technician or an
//! inspector confirms uniform, badge, tools and protective equipment, as a patrol does in its
//! round's `shift_ready` step (the same four checks, the same words).

use crate::error::RuleError;
use crate::lang::Localized;
use heatcrew_protocol::JobKind;

/// The checks, in the order the screen lists them: key, then zh-CN and English.
pub const CHECKS: [(&str, &str, &str); 4] = [
    ("uniform", "工装整洁", "Uniform on and tidy"),
    ("badge", "佩戴服务证", "Service badge worn"),
    ("tools", "工具、材料带齐", "Tools and parts packed"),
    ("ppe", "安全防护用具齐全", "Protective equipment checked"),
];

/// The patrol template's step that already holds the same checks: done today, it counts.
pub const PATROL_STEP: &str = "shift_ready";

/// Whether this kind of job waits for the day's readiness. Patrols confirm it in their own
/// first step; an emergency opened on the spot goes first (safety before paperwork).
pub fn required_for(kind: JobKind) -> bool {
    matches!(
        kind,
        JobKind::HomeRepair | JobKind::HeatTheftInspection | JobKind::AcceptanceInspection
    )
}

/// The checks as the screen shows them.
pub fn checks() -> Vec<(String, Localized)> {
    CHECKS
        .iter()
        .map(|(k, zh, en)| ((*k).to_owned(), Localized::new(*zh, *en)))
        .collect()
}

/// Every check ticked, none unknown, none twice.
pub fn check(ticked: &[String]) -> Result<(), RuleError> {
    let known = |k: &str| CHECKS.iter().any(|(c, _, _)| *c == k);
    let mut seen: Vec<&str> = Vec::new();
    for t in ticked {
        if !known(t) || seen.contains(&t.as_str()) {
            return Err(RuleError::InvalidValue {
                field: "checks".into(),
                value: t.clone(),
            });
        }
        seen.push(t);
    }
    if seen.len() < CHECKS.len() {
        return Err(RuleError::ReadinessIncomplete);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_is_needed_once() {
        let all: Vec<String> = CHECKS.iter().map(|c| c.0.to_owned()).collect();
        assert_eq!(check(&all), Ok(()), "all four checks ticked is ready");
        assert_eq!(
            check(&all[..3]),
            Err(RuleError::ReadinessIncomplete),
            "without protective equipment, not ready"
        );
        let mut twice = all[..3].to_vec();
        twice.push("uniform".into());
        assert!(
            matches!(check(&twice), Err(RuleError::InvalidValue { .. })),
            "a check ticked twice does not stand in for a missing one"
        );
        let mut odd = all.clone();
        odd.push("sunglasses".into());
        assert!(
            matches!(check(&odd), Err(RuleError::InvalidValue { .. })),
            "an unknown check is refused"
        );
    }
}
