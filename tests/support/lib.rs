//! Parts for the system tests: a TCP proxy that injures traffic, and an office in a child process
//! that can be SIGKILLed and restarted on the same port and database.

pub mod fault_proxy;
pub mod office_process;
