//! Rewind, the desktop app and the command line: a time-travel debugger for event-sourced
//! systems, as a library.
//!
//! A team whose system is written in Rust gets the whole app and CLI, replaying stores through
//! its own domains, from a `main.rs` of a few lines:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     rewind::run(rewind::DomainSet::new(vec![Box::new(rewind::bank::BankDomain::default())]))
//! }
//! ```
//!
//! A domain implements [`core::Domain`]: which streams it claims ([`core::AggregateClaim`]:
//! by stream type, category or first event type), a fresh [`core::AggregateState`] for each,
//! and its read models ([`core::ProjectionState`]). [`core`] has typed traits to build those
//! from ([`core::Aggregate`], [`core::Projection`], [`core::Upcaster`]), and the crates a
//! domain's types are made of are re-exported here at the versions Rewind uses ([`serde`], [`serde_json`],
//! [`chrono`], [`uuid`]). `examples/cqrs-bank` replays a cqrs-es domain this way.
//!
//! [`run`] parses the command line: with a subcommand it runs the CLI, without one it opens
//! the desktop app. [`app::App`] is the app itself (for tests and embedding), [`pipeline`]
//! reads and folds a store without any UI, and [`session`] is an opened store as the app
//! sees it. Everything else is private.

mod allocator;
pub mod app;
mod bench;
mod cli;
mod command;
mod dialogs;
pub mod domains;
mod evidence;
mod fetch;
mod fonts;
mod panels;
pub mod pipeline;
mod prefs;
pub mod session;
mod theme;
mod view;
mod widgets;

use std::process::ExitCode;
use std::sync::Arc;

/// The built-in sample bank, a domain to read as an example.
pub use rewind_bank as bank;
/// The domain vocabulary: the traits a domain implements and the events it reads.
pub use rewind_core as core;
pub use rewind_core::{Domain, DomainSet};
pub use {chrono, serde, serde_json, uuid};

/// Runs Rewind with `domains`: the CLI when a subcommand is given, the desktop app otherwise.
/// Exits 0 on success, 1 when `verify` found issues, 2 on an error (said on stderr in one line).
pub fn run(domains: DomainSet) -> ExitCode {
    allocator::tune();
    cli::main(&Arc::new(domains))
}

/// The domains this build of Rewind knows. Each claims its streams by type, category or first
/// event, in whatever store they are; streams none claims replay through the generic fold.
pub fn domains() -> DomainSet {
    DomainSet::new(vec![Box::new(rewind_bank::BankDomain::default())])
}

/// Domains that replay a store only when picked by name (`--domain bank-accounts`), never by
/// default: the bank's accounts alone, the in-process baseline a plug-in doing the same work
/// is measured against.
pub(crate) fn on_request() -> Vec<Arc<dyn rewind_core::Domain>> {
    vec![Arc::new(rewind_bank::BankDomain::accounts())]
}
