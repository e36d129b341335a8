//! The bank as a Rewind domain plug-in.

use rewind_core::{
    Aggregate, AggregateClaim, AggregateState, Domain, DomainEvent, ProjectionState, RecordedEvent, TypedAggregate,
    UpcastError, UpcasterChain,
};

use crate::account::{AccountEvent, BankAccount};
use crate::order::{Order, OrderEvent};
use crate::projections::{AccountBalances, DailyTotals, OrderSummaries};
use crate::upcast::upcasters;

/// The bank domain behind the object-safe [`Domain`] boundary.
pub struct BankDomain {
    upcasters: UpcasterChain,
    /// Only the accounts and their balances (see [`BankDomain::accounts`]).
    accounts_only: bool,
}

impl Default for BankDomain {
    fn default() -> Self {
        Self {
            upcasters: upcasters(),
            accounts_only: false,
        }
    }
}

impl BankDomain {
    /// The bank's accounts alone, with the account balances read model, named
    /// `bank-accounts`: the work of the guides' bank account (the JavaScript plug-in example),
    /// done in this process, as a baseline to measure a plug-in against (`--domain
    /// bank-accounts`, orders then fold generically, as with the plug-in).
    pub fn accounts() -> Self {
        Self {
            upcasters: upcasters(),
            accounts_only: true,
        }
    }
}

impl Domain for BankDomain {
    fn name(&self) -> &'static str {
        if self.accounts_only { "bank-accounts" } else { "bank" }
    }

    /// Streams are claimed by category (`account-…`, `order-…`), whatever store holds them
    /// and whatever type it gives them: another library's stream typed `BankAccount` is not
    /// claimed for its type alone.
    fn money_fields(&self) -> Vec<rewind_core::MoneyField> {
        // Every amount in the bank is in cents of the account's (or order's) currency.
        [
            "balance_cents",
            "amount_cents",
            "total_cents",
            "unit_price_cents",
            "deposits_cents",
            "withdrawals_cents",
        ]
        .into_iter()
        .map(|field| rewind_core::MoneyField::new(field, "currency"))
        .collect()
    }

    fn aggregates(&self) -> Vec<AggregateClaim> {
        let names = |types: &[&str]| types.iter().map(|t| (*t).to_owned()).collect();
        vec![
            AggregateClaim {
                aggregate: BankAccount::STREAM_TYPE.into(),
                categories: vec!["account".into()],
                event_types: names(&[
                    "AccountOpened",
                    "MoneyDeposited",
                    "MoneyWithdrawn",
                    "WithdrawalRejected",
                    "AccountFrozen",
                    "AccountUnfrozen",
                    "AccountClosed",
                ]),
                ..AggregateClaim::default()
            },
            AggregateClaim {
                aggregate: Order::STREAM_TYPE.into(),
                categories: vec!["order".into()],
                event_types: names(&["OrderCreated", "OrderConfirmed", "OrderShipped", "OrderCancelled"]),
                ..AggregateClaim::default()
            },
        ]
        .into_iter()
        .take(if self.accounts_only { 1 } else { 2 })
        .collect()
    }

    fn new_aggregate(&self, aggregate: &str) -> Option<Box<dyn AggregateState>> {
        match aggregate {
            BankAccount::STREAM_TYPE => Some(Box::new(TypedAggregate(BankAccount::default()))),
            Order::STREAM_TYPE => Some(Box::new(TypedAggregate(Order::default()))),
            _ => None,
        }
    }

    fn projections(&self) -> Vec<Box<dyn ProjectionState>> {
        if self.accounts_only {
            return vec![Box::new(AccountBalances::default())];
        }
        vec![
            Box::new(AccountBalances::default()),
            Box::new(OrderSummaries::default()),
            Box::new(DailyTotals::default()),
        ]
    }

    fn latest_schema_version(&self, event_type: &str) -> Option<u32> {
        self.upcasters.latest_version(event_type)
    }

    fn upcast(&self, event: &RecordedEvent) -> Result<Option<RecordedEvent>, UpcastError> {
        self.upcasters.upcast(event)
    }

    fn prepare(&self, event: &mut RecordedEvent) {
        // What cannot be upcast or decoded is reported when the event is folded.
        if self.upcasters.upcast_in_place(event).is_err() {
            return;
        }
        match rewind_core::category(&event.stream_id) {
            Some("account") => drop(AccountEvent::read(event)),
            Some("order") => drop(OrderEvent::read(event)),
            _ => {}
        }
    }
}
