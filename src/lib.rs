//! Rewind, the app and the command line: a time-travel debugger for event-sourced systems.
//!
//! The binary (`src/main.rs`) is thin: it parses the command line and either runs a CLI
//! command ([`cli`]) or opens the desktop app ([`app`]). Both replay stores through the
//! domains returned by [`domains`].

pub mod allocator;
pub mod app;
pub mod bench;
pub mod cli;
pub mod evidence;
pub mod fetch;
pub mod panels;
pub mod session;
pub mod theme;
pub mod widgets;

use std::sync::Arc;

use rewind_core::{Domain, DomainSet};
use rewind_store::EventSource;

/// The domains this build of Rewind knows; streams none claims replay generically.
pub fn domains() -> DomainSet {
    DomainSet::new(vec![Box::new(rewind_bank::BankDomain::default())])
}

/// The domains to replay `source` with: `domain` for stores in Rewind's own format, the
/// generic plug-in alone for other libraries' stores, whose payloads are theirs (a cqrs-es
/// `BankAccount` is not Rewind's `BankAccount`).
pub fn domain_for(source: &dyn EventSource, domain: Arc<dyn Domain>) -> Arc<dyn Domain> {
    if source.is_native() {
        domain
    } else {
        Arc::new(DomainSet::new(Vec::new()))
    }
}
