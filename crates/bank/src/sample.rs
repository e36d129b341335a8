//! Deterministic sample history: commands run through the bank domain and the payment saga.
//!
//! The history has legacy v1 payloads (the first 30% of the timeline, before the schema
//! change), rejected payments, frozen and closed accounts, and, unless `clean` is set, one
//! planted incident: a legacy batch writer that bypassed the domain (no idempotency key, no
//! balance check) appended the same withdrawal twice, driving one balance negative.
//! Nothing here does I/O: events go to a sink in batches.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use rewind_core::RecordedEvent;

use crate::account::{AccountCommand, AccountEvent, AccountStatus, MoneyWithdrawn};
use crate::order::{OrderItem, OrderStatus};
use crate::service::{BankService, OrderOutcome};

/// What to generate.
#[derive(Clone, Debug)]
pub struct SampleConfig {
    pub seed: u64,
    /// Accounts to open (raised when `events` asks for a bigger history).
    pub accounts: u32,
    /// Orders to place (raised likewise).
    pub orders: u32,
    /// Days the history spans.
    pub days: u32,
    /// Approximate number of events; the generator stops at the first activity that reaches it.
    pub events: Option<u64>,
    /// Leave the planted incident out.
    pub clean: bool,
}

impl Default for SampleConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            accounts: 120,
            orders: 500,
            days: 90,
            events: None,
            clean: false,
        }
    }
}

/// The planted incident: where it is, for the story in `sample-data/README.md`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Incident {
    pub account_id: String,
    pub reference: String,
    pub amount_cents: i64,
    pub balance_before_cents: i64,
    /// The first (legitimate-looking) withdrawal.
    pub first_position: u64,
    /// The duplicate that drove the balance negative: the first invariant violation.
    pub duplicate_position: u64,
    pub recorded_at: Option<DateTime<Utc>>,
}

/// What was generated.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SampleSummary {
    pub events: u64,
    pub accounts: u32,
    pub orders: u32,
    pub rejected_payments: u32,
    pub legacy_events: u64,
    pub incident: Option<Incident>,
}

const PRODUCTS: &[(&str, &str, i64)] = &[
    ("sku-100", "Espresso beans 1 kg", 24_90),
    ("sku-101", "Pour-over kettle", 59_00),
    ("sku-102", "Ceramic mug", 12_50),
    ("sku-103", "Burr grinder", 149_00),
    ("sku-104", "Milk frother", 39_95),
    ("sku-105", "Paper filters (100)", 4_75),
    ("sku-106", "Travel tumbler", 22_00),
    ("sku-108", "Barista apron", 29_90),
    ("sku-109", "Tasting course voucher", 85_00),
    ("sku-107", "Espresso machine", 649_00),
];

const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Alan",
    "Grace",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Ken",
    "Margaret",
    "Dennis",
    "Radia",
    "Tony",
    "Sophie",
    "Niklaus",
    "Leslie",
    "Hedy",
    "John",
    "Katherine",
    "Tim",
    "Lynn",
];
const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "Turing",
    "Hopper",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Hamilton",
    "Ritchie",
    "Perlman",
    "Hoare",
    "Wilson",
    "Wirth",
    "Lamport",
    "Lamarr",
    "Backus",
    "Johnson",
    "Berners-Lee",
    "Conway",
];

/// Start of every sample history (a Monday).
pub fn sample_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 8, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

fn is_upcast_type(event_type: &str) -> bool {
    matches!(event_type, "MoneyDeposited" | "OrderCreated")
}

pub fn account_id(n: u32) -> String {
    format!("account-{n:04}")
}

fn customer_id(n: u32) -> String {
    format!("customer-{n:04}")
}

/// Generates the history, handing events to `sink` in global order, in batches.
pub fn generate<E>(
    config: &SampleConfig,
    mut sink: impl FnMut(Vec<RecordedEvent>) -> Result<(), E>,
) -> Result<SampleSummary, E> {
    let mut generator = Generator::new(config);
    let mut legacy_events = 0;
    let mut flush = |batch: Vec<RecordedEvent>| {
        legacy_events += batch
            .iter()
            .filter(|e| e.schema_version == Some(1) && is_upcast_type(&e.event_type))
            .count() as u64;
        sink(batch)
    };
    while !generator.done() {
        generator.step();
        if generator.bank.pending() >= 8192 {
            flush(generator.bank.drain())?;
        }
    }
    let rest = generator.bank.drain();
    if !rest.is_empty() {
        flush(rest)?;
    }
    let mut summary = generator.finish();
    summary.legacy_events = legacy_events;
    Ok(summary)
}

struct Generator {
    rng: ChaCha8Rng,
    bank: BankService,
    start: DateTime<Utc>,
    span_ms: i64,
    target_events: u64,
    target_accounts: u32,
    opened: u32,
    orders: u32,
    confirmed: std::collections::VecDeque<String>,
    closed: u32,
    frozen: Vec<u32>,
    rejected_payments: u32,
    next_reference: u64,
    plant_incident: bool,
    incident: Option<Incident>,
}

impl Generator {
    fn new(config: &SampleConfig) -> Self {
        // About 9 events per account and 3.5 per order; a requested size scales both.
        let natural = u64::from(config.accounts) * 9 + u64::from(config.orders) * 7 / 2;
        let target_events = config.events.unwrap_or(natural).max(50);
        let target_accounts = match config.events {
            Some(events) => config.accounts.max((events / 60) as u32),
            None => config.accounts,
        }
        .max(2);
        Self {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            bank: BankService::new(config.seed ^ 0x5eed_f00d, sample_start()),
            start: sample_start(),
            span_ms: i64::from(config.days.max(1)) * 86_400_000,
            target_events,
            target_accounts,
            opened: 0,
            orders: 0,
            confirmed: std::collections::VecDeque::new(),
            closed: 0,
            frozen: Vec::new(),
            rejected_payments: 0,
            next_reference: 1,
            plant_incident: !config.clean,
            incident: None,
        }
    }

    fn done(&self) -> bool {
        self.bank.recorded_count() >= self.target_events
    }

    fn progress(&self) -> f64 {
        self.bank.recorded_count() as f64 / self.target_events as f64
    }

    fn step(&mut self) {
        let progress = self.progress();
        let jitter = self.rng.random_range(0..60_000);
        self.bank
            .set_now(self.start + Duration::milliseconds((progress * self.span_ms as f64) as i64 + jitter));
        // Before the schema change, deposits and orders were written in their v1 shapes.
        self.bank.set_legacy_schema(progress < 0.3);

        if self.plant_incident && self.incident.is_none() && progress >= 0.62 {
            self.plant_duplicate_withdrawal();
        }
        let wanted_open = (f64::from(self.target_accounts) * (0.05 + progress / 0.6).min(1.0)).ceil() as u32;
        if self.opened < wanted_open.min(self.target_accounts) {
            self.open_account();
        } else {
            match self.rng.random_range(0..100) {
                35..53 => self.withdraw(),
                53..80 => self.place_order(),
                80..92 => self.ship_order(),
                92..94 => self.freeze(),
                94..96 => self.unfreeze(),
                96..98 => self.close(),
                _ => self.deposit(),
            }
        }
    }

    fn reference(&mut self, prefix: &str) -> String {
        self.next_reference += 1;
        format!("{prefix}-{:06}", self.next_reference)
    }

    fn random_account(&mut self) -> Option<u32> {
        (self.opened > 0).then(|| self.rng.random_range(1..=self.opened))
    }

    fn open_account(&mut self) {
        self.opened += 1;
        let n = self.opened;
        let holder = format!(
            "{} {}",
            FIRST_NAMES[self.rng.random_range(0..FIRST_NAMES.len())],
            LAST_NAMES[self.rng.random_range(0..LAST_NAMES.len())]
        );
        let currency = if self.rng.random_bool(0.85) { "EUR" } else { "USD" };
        let id = account_id(n);
        let open = AccountCommand::OpenAccount {
            holder,
            currency: currency.into(),
        };
        if self.bank.execute_account(&id, &open, None, None).is_ok() {
            let amount_cents = self.rng.random_range(50..2_000) * 100 + self.rng.random_range(0..100);
            let reference = self.reference("initial");
            let _ = self.bank.execute_account(
                &id,
                &AccountCommand::DepositMoney {
                    amount_cents,
                    reference: reference.into(),
                },
                None,
                None,
            );
        }
    }

    fn deposit(&mut self) {
        let Some(n) = self.random_account() else {
            return;
        };
        let amount_cents = self.rng.random_range(10..800) * 100 + self.rng.random_range(0..100);
        let reference = self.reference("dep");
        // Refused on frozen or closed accounts; a real teller would see the error.
        let _ = self.bank.execute_account(
            &account_id(n),
            &AccountCommand::DepositMoney {
                amount_cents,
                reference: reference.into(),
            },
            None,
            None,
        );
    }

    fn withdraw(&mut self) {
        let Some(n) = self.random_account() else {
            return;
        };
        let id = account_id(n);
        let balance = self.bank.account(&id).map_or(0, |a| a.balance_cents);
        if balance < 100 {
            return;
        }
        let amount_cents = self.rng.random_range(1..=balance * 6 / 10).max(1);
        let reference = self.reference("wd");
        let command = AccountCommand::WithdrawMoney {
            amount_cents,
            reference: reference.into(),
        };
        let _ = self.bank.execute_account(&id, &command, None, None);
        if self.rng.random_bool(0.05) {
            // A client retried after a timeout: the reference makes the retry a no-op.
            let _ = self.bank.execute_account(&id, &command, None, None);
        }
    }

    fn place_order(&mut self) {
        let Some(n) = self.random_account() else {
            return;
        };
        let item_count = self.rng.random_range(1..=3);
        let big = self.rng.random_bool(0.04);
        let items: Vec<OrderItem> = (0..item_count)
            .map(|_| {
                // The espresso machine (last) is a rare, big purchase.
                let catalogue = if big { PRODUCTS.len() } else { PRODUCTS.len() - 1 };
                let (id, name, price) = PRODUCTS[self.rng.random_range(0..catalogue)];
                OrderItem {
                    product_id: id.into(),
                    product_name: name.into(),
                    quantity: if big {
                        self.rng.random_range(20..60)
                    } else {
                        self.rng.random_range(1..3)
                    },
                    unit_price_cents: price,
                }
            })
            .collect();
        self.orders += 1;
        let order_id = format!("order-{:05}", self.orders);
        match self.bank.place_order(&order_id, &customer_id(n), &account_id(n), items) {
            Ok(OrderOutcome::Confirmed) => self.confirmed.push_back(order_id),
            Ok(OrderOutcome::Cancelled { .. }) => self.rejected_payments += 1,
            Err(_) => {}
        }
    }

    fn ship_order(&mut self) {
        if let Some(order_id) = self.confirmed.pop_front()
            && self
                .bank
                .order(&order_id)
                .is_some_and(|o| o.status == OrderStatus::Confirmed)
        {
            let _ = self
                .bank
                .execute_order(&order_id, &crate::order::OrderCommand::ShipOrder, None, None);
        }
    }

    fn freeze(&mut self) {
        let Some(n) = self.random_account() else {
            return;
        };
        let reason = if self.rng.random_bool(0.5) {
            "suspicious activity review"
        } else {
            "customer request"
        };
        let freeze = AccountCommand::FreezeAccount { reason: reason.into() };
        if self.bank.execute_account(&account_id(n), &freeze, None, None).is_ok() {
            self.frozen.push(n);
        }
    }

    /// Most freezes are lifted after a while; the oldest review finishes first.
    fn unfreeze(&mut self) {
        if self.frozen.is_empty() {
            return;
        }
        let n = self.frozen.remove(0);
        let _ = self
            .bank
            .execute_account(&account_id(n), &AccountCommand::UnfreezeAccount, None, None);
    }

    fn close(&mut self) {
        if self.closed * 12 >= self.opened {
            return;
        }
        let Some(n) = self.random_account() else {
            return;
        };
        let id = account_id(n);
        let Some(account) = self.bank.account(&id) else {
            return;
        };
        if account.status != AccountStatus::Open || account.balance_cents < 0 {
            return;
        }
        let balance = account.balance_cents;
        if balance > 0 {
            let reference = self.reference("closing");
            let payout = AccountCommand::WithdrawMoney {
                amount_cents: balance,
                reference: reference.into(),
            };
            if self.bank.execute_account(&id, &payout, None, None).is_err() {
                return;
            }
        }
        if self
            .bank
            .execute_account(&id, &AccountCommand::CloseAccount, None, None)
            .is_ok()
        {
            self.closed += 1;
        }
    }

    /// The legacy batch payout job wrote straight to the event store: no idempotency key, no
    /// balance check. A retry after a timeout appended the same payout again.
    fn plant_duplicate_withdrawal(&mut self) {
        let richest = (1..=self.opened)
            .filter_map(|n| {
                let id = account_id(n);
                let account = self.bank.account(&id)?;
                (account.status == AccountStatus::Open).then_some((account.balance_cents, id))
            })
            .max();
        let Some((balance, account)) = richest else {
            return;
        };
        if balance < 300 {
            return;
        }
        let amount_cents = balance * 2 / 3;
        let reference = format!("legacy-payout-{}", self.next_reference);
        let withdrawal = AccountEvent::MoneyWithdrawn(MoneyWithdrawn {
            amount_cents,
            reference: reference.clone().into(),
        });
        let first = self.bank.append_unchecked(&account, &withdrawal);
        let duplicate = self.bank.append_unchecked(&account, &withdrawal);
        self.incident = Some(Incident {
            account_id: account,
            reference,
            amount_cents,
            balance_before_cents: balance,
            first_position: first.global_position,
            duplicate_position: duplicate.global_position,
            recorded_at: duplicate.recorded_at,
        });
    }

    fn finish(self) -> SampleSummary {
        SampleSummary {
            events: self.bank.recorded_count(),
            accounts: self.opened,
            orders: self.orders,
            rejected_payments: self.rejected_payments,
            legacy_events: 0,
            incident: self.incident,
        }
    }
}
