//! The real field app driven through WebDriver, for the e2e suite. The office, the fault proxy and
//! the office child process are in heatcrew-testkit (crates/testkit).

pub mod app;
