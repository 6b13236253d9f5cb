//! The two languages the app speaks: Chinese first (the crews' language), English second.

use serde::{Deserialize, Serialize};

/// A text in the two languages the app speaks: Chinese first, English second.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Localized {
    pub zh: String,
    pub en: String,
}

impl Localized {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Localized {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// The UI language (defined beside the error vocabulary in heatcrew-protocol).
pub use heatcrew_protocol::Lang;
