//! `rewind_bank`: the sample bank domain, "the same domain crate" a real service would use.
//!
//! - [`BankAccount`] and [`Order`]: aggregates with pure `decide` and fallible `apply`.
//! - [`PaymentSaga`]: pays for each order, confirms or cancels it, with correlation and
//!   causation ids on every event it causes.
//! - Upcasters for legacy v1 payloads ([`upcast`]), projections ([`projections`]) and the
//!   invariants the debugger checks at every step ([`Aggregate::broken_invariants`]).
//! - [`BankDomain`]: the whole domain as a Rewind plug-in.
//! - [`BankService`] and [`sample`]: an in-memory write side and the deterministic sample
//!   history built by running commands through it.
//!
//! Money is integer cents. It does no I/O: stores live in `rewind_store`.
//!
//! [`Aggregate::broken_invariants`]: rewind_core::Aggregate::broken_invariants

pub mod account;
mod codec;
mod history;
pub mod order;
pub mod plugin;
pub mod projections;
pub mod saga;
pub mod sample;
pub mod service;
pub mod upcast;
mod versions;

pub use account::{AccountCommand, AccountEvent, AccountStatus, BankAccount, BankAccountError};
pub use order::{Order, OrderCommand, OrderError, OrderEvent, OrderItem, OrderStatus};
pub use plugin::BankDomain;
pub use projections::{AccountBalances, DailyTotals, OrderSummaries};
pub use saga::PaymentSaga;
pub use service::{BankService, OrderOutcome, ServiceError};
