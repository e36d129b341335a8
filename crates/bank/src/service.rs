//! An in-memory write side: runs commands through the aggregates and records what they decide.
//!
//! It is what a bank service built on this crate does around its event store (load, decide,
//! append, run the saga), kept in memory so that tests and the sample generator need no I/O.
//! Commands that carry a reference are idempotent: the same deposit or withdrawal reference on
//! the same account is recorded once.

use std::ops::Range;

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use thiserror::Error;
use uuid::Uuid;

use rewind_core::{Aggregate, DomainEvent, RecordedEvent, UpcasterChain, metadata};

use crate::account::{AccountCommand, AccountEvent, BankAccount, BankAccountError};
use crate::order::{Order, OrderCommand, OrderError, OrderItem};
use crate::saga::{PaymentSaga, SagaCommand};
use crate::upcast::{downcast_to_v1, upcasters};

/// A command the domain refused, with the stream it was for.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ServiceError {
    #[error("{stream_id}: {error}")]
    Account { stream_id: String, error: BankAccountError },
    #[error("{stream_id}: {error}")]
    Order { stream_id: String, error: OrderError },
}

#[derive(Clone, Debug, Default)]
struct Stream<A> {
    state: A,
    version: u64,
}

/// How the payment saga ended for one order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderOutcome {
    Confirmed,
    /// The payment was refused; the order is cancelled.
    Cancelled {
        reason: String,
    },
}

pub struct BankService {
    accounts: HashMap<String, Stream<BankAccount>>,
    orders: HashMap<String, Stream<Order>>,
    processed_references: HashSet<(String, String)>,
    /// Each order's correlation id: later commands on the order (shipping) carry it too.
    order_correlation: HashMap<String, String>,
    next_position: u64,
    now: DateTime<Utc>,
    last_recorded_at: Option<DateTime<Utc>>,
    rng: ChaCha8Rng,
    legacy_schema: bool,
    upcasters: UpcasterChain,
    recorded: Vec<RecordedEvent>,
}

impl BankService {
    /// A service whose event ids come from `seed` and whose clock starts at `now`.
    pub fn new(seed: u64, now: DateTime<Utc>) -> Self {
        Self {
            accounts: HashMap::default(),
            orders: HashMap::default(),
            processed_references: HashSet::default(),
            order_correlation: HashMap::default(),
            next_position: 1,
            now,
            last_recorded_at: None,
            rng: ChaCha8Rng::seed_from_u64(seed),
            legacy_schema: false,
            upcasters: upcasters(),
            recorded: Vec::new(),
        }
    }

    /// Sets the clock. Events recorded in the same instant are spaced one millisecond apart.
    pub fn set_now(&mut self, now: DateTime<Utc>) {
        self.now = now;
    }

    /// Writes `MoneyDeposited` and `OrderCreated` in their v1 shapes, as the service did
    /// before the schema change.
    pub fn set_legacy_schema(&mut self, legacy: bool) {
        self.legacy_schema = legacy;
    }

    pub fn account(&self, account_id: &str) -> Option<&BankAccount> {
        self.accounts.get(account_id).map(|s| &s.state)
    }

    pub fn order(&self, order_id: &str) -> Option<&Order> {
        self.orders.get(order_id).map(|s| &s.state)
    }

    /// The events recorded since the last call, in global order.
    pub fn drain(&mut self) -> Vec<RecordedEvent> {
        std::mem::take(&mut self.recorded)
    }

    /// The number of events recorded and not drained yet.
    pub fn pending(&self) -> usize {
        self.recorded.len()
    }

    /// The number of events recorded so far.
    pub fn recorded_count(&self) -> u64 {
        self.next_position - 1
    }

    /// Runs `command` against an account and records the events it decides; returns them.
    pub fn handle_account(
        &mut self,
        account_id: &str,
        command: &AccountCommand,
        correlation_id: Option<&str>,
        causation_id: Option<&str>,
    ) -> Result<Vec<RecordedEvent>, ServiceError> {
        let range = self.execute_account(account_id, command, correlation_id, causation_id)?;
        Ok(self.recorded[range].to_vec())
    }

    /// Like [`Self::handle_account`], but returns where the new events sit among the pending
    /// ones instead of copies (the sample generator records millions).
    pub fn execute_account(
        &mut self,
        account_id: &str,
        command: &AccountCommand,
        correlation_id: Option<&str>,
        causation_id: Option<&str>,
    ) -> Result<Range<usize>, ServiceError> {
        let start = self.recorded.len();
        let reference = match command {
            AccountCommand::DepositMoney { reference, .. } | AccountCommand::WithdrawMoney { reference, .. }
                if !reference.is_empty() =>
            {
                Some((account_id.to_owned(), reference.to_string()))
            }
            _ => None,
        };
        if reference
            .as_ref()
            .is_some_and(|key| self.processed_references.contains(key))
        {
            return Ok(start..start);
        }
        let stream = self.accounts.entry(account_id.to_owned()).or_default();
        let events = stream.state.decide(command).map_err(|error| ServiceError::Account {
            stream_id: account_id.to_owned(),
            error,
        })?;
        if let Some(key) = reference {
            self.processed_references.insert(key);
        }
        let meta = metadata(correlation_id, causation_id);
        for event in &events {
            self.record_account_event(account_id, event, meta.clone());
        }
        Ok(start..self.recorded.len())
    }

    /// Runs `command` against an order and records the events it decides; returns them.
    pub fn handle_order(
        &mut self,
        order_id: &str,
        command: &OrderCommand,
        correlation_id: Option<&str>,
        causation_id: Option<&str>,
    ) -> Result<Vec<RecordedEvent>, ServiceError> {
        let range = self.execute_order(order_id, command, correlation_id, causation_id)?;
        Ok(self.recorded[range].to_vec())
    }

    /// Like [`Self::handle_order`], but returns where the new events sit among the pending ones.
    pub fn execute_order(
        &mut self,
        order_id: &str,
        command: &OrderCommand,
        correlation_id: Option<&str>,
        causation_id: Option<&str>,
    ) -> Result<Range<usize>, ServiceError> {
        let start = self.recorded.len();
        let stream = self.orders.entry(order_id.to_owned()).or_default();
        let events = stream.state.decide(command).map_err(|error| ServiceError::Order {
            stream_id: order_id.to_owned(),
            error,
        })?;
        let correlation_id = match correlation_id {
            Some(id) => {
                self.order_correlation
                    .entry(order_id.to_owned())
                    .or_insert_with(|| id.to_owned());
                Some(id)
            }
            None => self.order_correlation.get(order_id).map(String::as_str),
        };
        let meta = metadata(correlation_id, causation_id);
        for event in events {
            let stream = self.orders.entry(order_id.to_owned()).or_default();
            // Decided events always apply to the state they were decided on.
            let _ = stream.state.apply(&event);
            stream.version += 1;
            let version = stream.version;
            self.record(order_id, Order::STREAM_TYPE, version, &event, meta.clone());
        }
        Ok(start..self.recorded.len())
    }

    /// Creates an order and runs the payment saga to its end.
    pub fn place_order(
        &mut self,
        order_id: &str,
        customer_id: &str,
        account_id: &str,
        items: Vec<OrderItem>,
    ) -> Result<OrderOutcome, ServiceError> {
        let correlation_id = self.new_uuid().to_string();
        let command = OrderCommand::CreateOrder {
            customer_id: customer_id.to_owned(),
            account_id: account_id.to_owned(),
            items,
        };
        let created = self.execute_order(order_id, &command, Some(&correlation_id), None)?;
        let Some(order_created) = self.recorded.get(created.start).cloned() else {
            return Err(ServiceError::Order {
                stream_id: order_id.to_owned(),
                error: OrderError::NotCreated,
            });
        };
        // The saga subscribes like any consumer: it reads legacy payloads through the upcasters.
        let current = match self.upcasters.upcast(&order_created) {
            Ok(Some(upcast)) => upcast,
            _ => order_created,
        };
        let Some(pay) = PaymentSaga::on_order_created(&current) else {
            return Err(ServiceError::Order {
                stream_id: order_id.to_owned(),
                error: OrderError::NotCreated,
            });
        };
        match self.run_account(&pay) {
            Ok(withdrawn) => {
                let Some(money_withdrawn) = self.recorded.get(withdrawn.start).filter(|_| !withdrawn.is_empty()) else {
                    // Already paid under this reference: the saga step was a retry.
                    return Ok(OrderOutcome::Confirmed);
                };
                let confirm = PaymentSaga::on_payment_taken(order_id, money_withdrawn);
                self.run_order(&confirm)?;
                Ok(OrderOutcome::Confirmed)
            }
            Err(ServiceError::Account { error, .. }) => {
                let reason = error.to_string();
                let AccountCommand::WithdrawMoney { amount_cents, .. } = pay.command else {
                    return Ok(OrderOutcome::Cancelled { reason });
                };
                let record = PaymentSaga::on_payment_refused(&current, &pay.stream_id, amount_cents, &reason);
                // A closed account records nothing; the order is then cancelled because of itself.
                let cause = match self.run_account(&record) {
                    Ok(rejected) if !rejected.is_empty() => self.recorded[rejected.start].clone(),
                    _ => current.clone(),
                };
                let cancel = PaymentSaga::on_rejection_recorded(order_id, &cause);
                self.run_order(&cancel)?;
                Ok(OrderOutcome::Cancelled { reason })
            }
            Err(other) => Err(other),
        }
    }

    /// Appends an account event without asking the aggregate: what a legacy writer that
    /// bypassed the domain's checks did. The event is still folded into the state.
    pub fn append_unchecked(&mut self, account_id: &str, event: &AccountEvent) -> RecordedEvent {
        let index = self.record_account_event(account_id, event, metadata(None, None));
        self.recorded[index].clone()
    }

    fn run_account(&mut self, step: &SagaCommand<AccountCommand>) -> Result<Range<usize>, ServiceError> {
        self.execute_account(
            &step.stream_id,
            &step.command,
            step.correlation_id.as_deref(),
            Some(&step.causation_id),
        )
    }

    fn run_order(&mut self, step: &SagaCommand<OrderCommand>) -> Result<Range<usize>, ServiceError> {
        self.execute_order(
            &step.stream_id,
            &step.command,
            step.correlation_id.as_deref(),
            Some(&step.causation_id),
        )
    }

    fn record_account_event(&mut self, account_id: &str, event: &AccountEvent, meta: rewind_core::Payload) -> usize {
        let stream = self.accounts.entry(account_id.to_owned()).or_default();
        // Facts are folded even when they break a rule; `apply` refuses only what cannot be
        // folded, which decided events never are.
        let _ = stream.state.apply(event);
        stream.version += 1;
        let version = stream.version;
        self.record(account_id, BankAccount::STREAM_TYPE, version, event, meta)
    }

    fn record<E: DomainEvent>(
        &mut self,
        stream_id: &str,
        stream_type: &str,
        stream_version: u64,
        event: &E,
        meta: rewind_core::Payload,
    ) -> usize {
        let recorded_at = match self.last_recorded_at {
            Some(last) if last >= self.now => last + Duration::milliseconds(1),
            _ => self.now,
        };
        self.last_recorded_at = Some(recorded_at);
        let event_type = event.event_type();
        let mut data = event.encode();
        let mut schema_version = event.schema_version();
        if self.legacy_schema
            && schema_version == 2
            && let Some(v1) = downcast_to_v1(stream_id, event_type, &data)
        {
            data = v1;
            schema_version = 1;
        }
        let recorded = RecordedEvent {
            global_position: self.next_position,
            stream_id: stream_id.into(),
            stream_type: stream_type.into(),
            stream_version,
            event_id: self.new_uuid(),
            event_type: event_type.into(),
            schema_version: Some(schema_version),
            recorded_at: Some(recorded_at),
            data: data.into(),
            metadata: meta,
        };
        self.next_position += 1;
        self.recorded.push(recorded);
        self.recorded.len() - 1
    }

    fn new_uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}
