//! Checklist templates: versioned data, not code branches.
//!
//! Each template is a JSON file in `crates/rules/templates/` (`<id>.v<version>.json`), embedded at build
//! time. A job names its template and version; a new version is a new file, and old versions stay so
//! that jobs recorded under them still read back the same.

use crate::error::RuleError;
use heatcrew_protocol::{Job, JobKind, ReadingSpec, Signer, TemplateRef};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

// Template texts are `Localized`; the language types are reachable from here as they always were.
pub use crate::lang::{Lang, Localized};

/// One choice of a [`Evidence::Choice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChoiceOption {
    pub value: String,
    pub label: Localized,
}

/// What a step needs before it counts as done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "EvidenceSpec"))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Evidence {
    /// At least `min` photos attached to the step.
    Photos { min: u32, label: Localized },
    /// A named text field.
    Text {
        key: String,
        label: Localized,
        required: bool,
        multiline: bool,
    },
    /// A named state chosen from options (meter / valve / seal state).
    Choice {
        key: String,
        label: Localized,
        required: bool,
        options: Vec<ChoiceOption>,
    },
    /// Readings, each spec must have a finite value.
    Readings { specs: Vec<ReadingSpec> },
    /// A signature, or a recorded refusal or absence with its reason. `signer` is who signs here
    /// (the customer unless the template says otherwise: an acceptance inspection's contractor).
    Signature {
        #[serde(default)]
        signer: Signer,
    },
    /// The customer's satisfaction rating.
    Rating,
    /// The company's contact number, left with the customer.
    ContactCard { phone: String, label: Localized },
    /// A plain confirmation.
    Confirm { label: Localized },
    /// A rectification notice issued on this job.
    Notice,
    /// Every checkpoint of the patrol round has at least one reading.
    Checkpoints,
}

/// When a step applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Only for work on the street that affects traffic.
    StreetWork,
}

/// One step of a checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTemplate {
    pub id: String,
    pub title: Localized,
    /// The standard phrase to say at this step (统一服务用语).
    pub phrase: Option<Localized>,
    pub hint: Option<Localized>,
    /// Whether the step may be skipped (always with a reason).
    pub skippable: bool,
    #[serde(default)]
    pub when: Option<Condition>,
    /// A skippable step that may be skipped only when an earlier step's choice was one of these
    /// values (an acceptance's written rectification opinion: only when the inspection passed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_only_if: Option<ChoiceIs>,
    pub evidence: Vec<Evidence>,
}

/// An earlier step's choice (`step`'s evidence `key`) was one of `any_of`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceIs {
    pub step: String,
    pub key: String,
    pub any_of: Vec<String>,
}

/// Records a job allows besides its steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Incident {
    Damage,
    NetworkDamage,
    Finding,
    Notice,
    Reading,
    Defect,
    Accident,
}

/// A versioned checklist for one job kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub id: String,
    pub version: u32,
    pub kind: JobKind,
    pub title: Localized,
    pub incidents: Vec<Incident>,
    pub steps: Vec<StepTemplate>,
    /// The step that records entry into the customer's home (`knock_consent`). A template that
    /// names one lets a visit close as not-home / no entry until that step is recorded, and takes
    /// reschedule requests.
    #[serde(default)]
    pub entry_step: Option<String>,
}

impl Template {
    pub fn reference(&self) -> TemplateRef {
        TemplateRef {
            id: self.id.clone(),
            version: self.version,
        }
    }

    /// The steps that apply to a job (a step with a condition the job does not meet is left out).
    pub fn steps_for(&self, street_work: bool) -> impl Iterator<Item = &StepTemplate> {
        self.steps.iter().filter(move |s| match s.when {
            None => true,
            Some(Condition::StreetWork) => street_work,
        })
    }

    pub fn step(&self, id: &str) -> Option<&StepTemplate> {
        self.steps.iter().find(|s| s.id == id)
    }

    pub fn allows(&self, incident: Incident) -> bool {
        self.incidents.contains(&incident)
    }
}

const SOURCES: &[&str] = &[
    include_str!("../templates/home_repair.v1.json"),
    include_str!("../templates/heat_theft_inspection.v1.json"),
    include_str!("../templates/patrol_round.v1.json"),
    include_str!("../templates/acceptance_inspection.v1.json"),
    include_str!("../templates/acceptance_inspection.v2.json"),
    include_str!("../templates/emergency_repair.v1.json"),
];

/// Every template this build knows, by id and version.
pub fn catalog() -> &'static BTreeMap<(String, u32), Template> {
    static CATALOG: OnceLock<BTreeMap<(String, u32), Template>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        SOURCES
            .iter()
            .map(|src| {
                let t: Template = serde_json::from_str(src)
                    .unwrap_or_else(|e| panic!("a bundled checklist template is invalid: {e}"));
                ((t.id.clone(), t.version), t)
            })
            .collect()
    })
}

/// The template a job refers to.
pub fn find(reference: &TemplateRef) -> Option<&'static Template> {
    catalog().get(&(reference.id.clone(), reference.version))
}

/// The template a job refers to, or `UnknownTemplate` (a job from a newer office than this build).
pub fn for_job(job: &Job) -> Result<&'static Template, RuleError> {
    find(&job.template).ok_or_else(|| RuleError::UnknownTemplate(job.template.id.clone()))
}

/// The newest template for a job kind (what the office assigns to new jobs).
pub fn latest_for(kind: JobKind) -> &'static Template {
    catalog()
        .values()
        .filter(|t| t.kind == kind)
        .max_by_key(|t| t.version)
        .unwrap_or_else(|| panic!("no bundled template for {kind:?}"))
}
