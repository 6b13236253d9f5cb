//! The two languages the app speaks. It lives here, below the rules crate, because the error
//! vocabulary ([`crate::ErrorCode`]) carries its texts in both languages.

use serde::{Deserialize, Serialize};

/// The UI language: Chinese first (the crews' language), English second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Lang {
    #[default]
    #[serde(rename = "zh-CN")]
    Zh,
    #[serde(rename = "en")]
    En,
}
