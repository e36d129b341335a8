//! Rewind, the app and the command line: a time-travel debugger for event-sourced systems.
//!
//! The binary (`src/main.rs`) is thin: it parses the command line and either runs a CLI
//! command ([`cli`]) or opens the desktop app ([`app`]). Both replay stores through the
//! domains returned by [`domains`].

pub mod app;
pub mod bench;
pub mod cli;
pub mod fetch;
pub mod panels;
pub mod session;
pub mod theme;
pub mod widgets;

use rewind_core::DomainSet;

/// The domains this build of Rewind knows; streams none claims replay generically.
pub fn domains() -> DomainSet {
    DomainSet::new(vec![Box::new(rewind_bank::BankDomain::default())])
}
