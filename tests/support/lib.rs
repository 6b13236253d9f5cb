//! Parts for the system and e2e tests: a TCP proxy that injures traffic, an office in a child
//! process that can be SIGKILLed and restarted on the same port and database, the real field
//! app driven through WebDriver, and headless Chromium for the office console.

pub mod app;
pub mod browser;
pub mod fault_proxy;
pub mod office_process;
