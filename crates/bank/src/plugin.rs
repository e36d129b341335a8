//! The bank as a Rewind domain plug-in.

use rewind_core::{
    Aggregate, AggregateState, Domain, DomainEvent, ProjectionState, RecordedEvent, TypedAggregate, UpcastError,
    UpcasterChain,
};

use crate::account::{AccountEvent, BankAccount};
use crate::order::{Order, OrderEvent};
use crate::projections::{AccountBalances, DailyTotals, OrderSummaries};
use crate::upcast::upcasters;

/// The bank domain behind the object-safe [`Domain`] boundary.
pub struct BankDomain {
    upcasters: UpcasterChain,
}

impl Default for BankDomain {
    fn default() -> Self {
        Self { upcasters: upcasters() }
    }
}

impl Domain for BankDomain {
    fn name(&self) -> &'static str {
        "bank"
    }

    fn stream_types(&self) -> Vec<&'static str> {
        vec![BankAccount::STREAM_TYPE, Order::STREAM_TYPE]
    }

    fn new_aggregate(&self, stream_type: &str) -> Option<Box<dyn AggregateState>> {
        match stream_type {
            BankAccount::STREAM_TYPE => Some(Box::new(TypedAggregate(BankAccount::default()))),
            Order::STREAM_TYPE => Some(Box::new(TypedAggregate(Order::default()))),
            _ => None,
        }
    }

    fn projections(&self) -> Vec<Box<dyn ProjectionState>> {
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
        match event.stream_type.as_str() {
            BankAccount::STREAM_TYPE => drop(AccountEvent::read(event)),
            Order::STREAM_TYPE => drop(OrderEvent::read(event)),
            _ => {}
        }
    }
}
