//! The real field app driven through WebDriver, for the e2e suite (`app`), and headless Chromium
//! for the office console's (`browser`, with a technician's phone in `phone`); the WebDriver session both use is `webdriver`; what every simulated field day must end with
//! is `field_day`. The office,
//! the fault proxy and the office child process are in heatcrew-testkit (crates/testkit).

pub mod app;
pub mod browser;
pub mod field_day;
pub mod phone;
pub mod webdriver;
