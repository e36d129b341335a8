//! The cqrs-es bank (`cqrs-bank-domain`) as a Rewind domain: its account streams replay through
//! the aggregate's own `apply`, its `AccountSummary` view is a read model, and Rewind checks
//! an invariant the domain's code does not keep.
//!
//! [`cqrs`] adapts any cqrs-es aggregate and view; this file says which streams are the bank's
//! and what must hold of an account.

pub mod cqrs;

use cqrs_bank_domain::{AccountSummary, BankAccount, BankAccountEvent};
use cqrs_es::Aggregate as _;
use rewind::core::{AggregateClaim, AggregateState, Domain, ProjectionState, Violation};

use crate::cqrs::{CqrsAggregate, CqrsViews, Invariants};

/// The bank's streams: those `sqlite-es` stores with the aggregate type `BankAccount`.
pub struct CqrsBank;

impl Domain for CqrsBank {
    fn name(&self) -> &'static str {
        "cqrs-bank"
    }

    fn aggregates(&self) -> Vec<AggregateClaim> {
        vec![AggregateClaim {
            aggregate: BankAccount::TYPE.to_owned(),
            stream_types: vec![BankAccount::TYPE.to_owned()],
            event_types: BankAccountEvent::TYPES.map(str::to_owned).to_vec(),
            ..AggregateClaim::default()
        }]
    }

    fn new_aggregate(&self, aggregate: &str) -> Option<Box<dyn AggregateState>> {
        (aggregate == BankAccount::TYPE).then(|| Box::new(CqrsAggregate(BankAccount::default())) as _)
    }

    fn projections(&self) -> Vec<Box<dyn ProjectionState>> {
        vec![Box::new(CqrsViews::<BankAccount, AccountSummary>::new(
            "account_summaries",
        ))]
    }
}

/// What the bank promises and its code does not check everywhere.
impl Invariants for BankAccount {
    type Watched = i64;

    fn watched(&self) -> i64 {
        self.balance
    }

    fn broken_invariants(before: &i64, after: &Self) -> Vec<Violation> {
        if *before >= 0 && after.balance < 0 {
            vec![Violation {
                invariant: "balance_never_negative".to_owned(),
                message: format!("the balance went from {before} to {}", after.balance),
            }]
        } else {
            Vec::new()
        }
    }
}
