//! The bank's read models. Maps are persistent (`imbl`), so a copy kept by the debugger shares
//! structure with the live one instead of duplicating it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use imbl::OrdMap;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use rewind_core::{Aggregate, ApplyError, Projection, RecordedEvent};

use crate::account::{AccountOpened, AccountStatus, BankAccount};
use crate::codec::decode_payload;
use crate::order::Order;
use crate::rows::KeyedRows;

/// Balance and status per account.
#[derive(Clone, Debug, Default)]
pub struct AccountBalances {
    accounts: KeyedRows<AccountBalance>,
}

/// A row. Its strings are shared, so the copy a balance change makes of a row that a checkpoint
/// also holds is one small allocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountBalance {
    pub holder: Arc<str>,
    pub currency: Arc<str>,
    pub balance_cents: i64,
    pub status: AccountStatus,
}

/// What a bank account event changes in the read models. They read only the fields they use
/// (an amount, not the reference that came with it), as any tolerant reader does; the aggregate
/// checks the whole payload.
enum AccountChange {
    Opened(AccountOpened),
    /// Cents added (negative: taken).
    Balance(i64),
    Status(AccountStatus),
    Nothing,
}

#[derive(Deserialize)]
struct Amount {
    amount_cents: i64,
}

impl AccountChange {
    fn read(event: &RecordedEvent) -> Result<Self, ApplyError> {
        let event_type = event.event_type.as_str();
        let amount = || decode_payload::<Amount>(event_type, &event.data).map(|a| a.amount_cents);
        Ok(match event_type {
            "AccountOpened" => Self::Opened(decode_payload(event_type, &event.data)?),
            "MoneyDeposited" => Self::Balance(amount()?),
            "MoneyWithdrawn" => Self::Balance(-amount()?),
            "AccountFrozen" => Self::Status(AccountStatus::Frozen),
            "AccountUnfrozen" => Self::Status(AccountStatus::Open),
            "AccountClosed" => Self::Status(AccountStatus::Closed),
            "WithdrawalRejected" => Self::Nothing,
            _ => {
                return Err(ApplyError::UnknownEventType {
                    stream_type: BankAccount::STREAM_TYPE.into(),
                    event_type: event_type.into(),
                });
            }
        })
    }
}

impl Projection for AccountBalances {
    const NAME: &'static str = "account_balances";

    fn apply(&mut self, event: &RecordedEvent) -> Result<(), ApplyError> {
        if event.stream_type != "BankAccount" {
            return Ok(());
        }
        let change = match AccountChange::read(event)? {
            AccountChange::Opened(opened) => {
                self.accounts.insert(
                    &event.stream_id,
                    AccountBalance {
                        holder: Arc::from(opened.holder.as_str()),
                        currency: Arc::from(opened.currency.as_str()),
                        balance_cents: 0,
                        status: AccountStatus::Open,
                    },
                );
                return Ok(());
            }
            AccountChange::Nothing => return Ok(()),
            change => change,
        };
        let Some(row) = self.accounts.get_mut(&event.stream_id) else {
            // An event for an account that never opened: the aggregate reports it.
            return Ok(());
        };
        match change {
            AccountChange::Balance(delta) => row.balance_cents += delta,
            AccountChange::Status(status) => row.status = status,
            AccountChange::Opened(_) | AccountChange::Nothing => {}
        }
        Ok(())
    }

    fn state(&self) -> Value {
        Value::Object(
            self.accounts
                .iter()
                .map(|(id, row)| (id.to_owned(), to_json(row)))
                .collect(),
        )
    }

    fn row_count(&self) -> usize {
        self.accounts.len()
    }

    fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)> {
        self.accounts.rows(start, count)
    }

    fn row(&self, key: &str) -> Option<(usize, Value)> {
        self.accounts.row(key)
    }

    fn keys_for(&self, event: &RecordedEvent) -> Vec<String> {
        if event.stream_type == "BankAccount" {
            vec![event.stream_id.clone()]
        } else {
            Vec::new()
        }
    }
}

impl AccountBalances {
    pub fn balance(&self, account_id: &str) -> Option<&AccountBalance> {
        self.accounts.get(account_id)
    }
}

pub(crate) fn to_json<T: Serialize>(row: &T) -> Value {
    serde_json::to_value(row).unwrap_or(Value::Null)
}

/// From `OrderCreated`, what the summary shows (not the items).
#[derive(Deserialize)]
struct OrderOpened {
    customer_id: String,
    total_cents: i64,
}

/// One row per order: who, how much, where it is in its life cycle, and when it got there.
#[derive(Clone, Debug, Default)]
pub struct OrderSummaries {
    orders: KeyedRows<OrderSummary>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderSummary {
    pub order_id: Arc<str>,
    pub customer_id: Arc<str>,
    pub total_cents: i64,
    pub status: crate::order::OrderStatus,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl Projection for OrderSummaries {
    const NAME: &'static str = "order_summaries";

    fn apply(&mut self, event: &RecordedEvent) -> Result<(), ApplyError> {
        use crate::order::OrderStatus;
        if event.stream_type != "Order" {
            return Ok(());
        }
        let event_type = event.event_type.as_str();
        if event_type == "OrderCreated" {
            let created: OrderOpened = decode_payload(event_type, &event.data)?;
            self.orders.insert(
                &event.stream_id,
                OrderSummary {
                    order_id: Arc::from(event.stream_id.as_str()),
                    customer_id: Arc::from(created.customer_id.as_str()),
                    total_cents: created.total_cents,
                    status: OrderStatus::Pending,
                    created_at: event.recorded_at,
                    confirmed_at: None,
                    shipped_at: None,
                    cancelled_at: None,
                },
            );
            return Ok(());
        }
        let status = match event_type {
            "OrderConfirmed" => OrderStatus::Confirmed,
            "OrderShipped" => OrderStatus::Shipped,
            "OrderCancelled" => OrderStatus::Cancelled,
            _ => {
                return Err(ApplyError::UnknownEventType {
                    stream_type: Order::STREAM_TYPE.into(),
                    event_type: event_type.into(),
                });
            }
        };
        let Some(row) = self.orders.get_mut(&event.stream_id) else {
            return Ok(());
        };
        row.status = status;
        let at = Some(event.recorded_at);
        match status {
            OrderStatus::Confirmed => row.confirmed_at = at,
            OrderStatus::Shipped => row.shipped_at = at,
            _ => row.cancelled_at = at,
        }
        Ok(())
    }

    fn state(&self) -> Value {
        Value::Array(self.orders.iter().map(|(_, row)| to_json(row)).collect())
    }

    fn row_count(&self) -> usize {
        self.orders.len()
    }

    fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)> {
        self.orders.rows(start, count)
    }

    fn row(&self, key: &str) -> Option<(usize, Value)> {
        self.orders.row(key)
    }

    fn keys_for(&self, event: &RecordedEvent) -> Vec<String> {
        if event.stream_type == "Order" {
            vec![event.stream_id.clone()]
        } else {
            Vec::new()
        }
    }
}

/// Deposits and withdrawals per UTC day.
#[derive(Clone, Debug, Default)]
pub struct DailyTotals {
    days: OrdMap<chrono::NaiveDate, DailyTotal>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DailyTotal {
    pub deposits_cents: i64,
    pub deposit_count: u64,
    pub withdrawals_cents: i64,
    pub withdrawal_count: u64,
}

impl Projection for DailyTotals {
    const NAME: &'static str = "daily_totals";

    fn apply(&mut self, event: &RecordedEvent) -> Result<(), ApplyError> {
        if event.stream_type != "BankAccount"
            || !matches!(event.event_type.as_str(), "MoneyDeposited" | "MoneyWithdrawn")
        {
            return Ok(());
        }
        let AccountChange::Balance(cents) = AccountChange::read(event)? else {
            return Ok(());
        };
        let total = self.days.entry(event.recorded_at.date_naive()).or_default();
        if event.event_type == "MoneyDeposited" {
            total.deposits_cents += cents;
            total.deposit_count += 1;
        } else {
            // A withdrawal's change is negative.
            total.withdrawals_cents -= cents;
            total.withdrawal_count += 1;
        }
        Ok(())
    }

    fn state(&self) -> Value {
        Value::Array(self.days.iter().map(|(day, total)| day_json(*day, total)).collect())
    }

    fn row_count(&self) -> usize {
        self.days.len()
    }

    fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)> {
        self.days
            .iter()
            .skip(start)
            .take(count)
            .map(|(day, total)| (day.to_string(), day_json(*day, total)))
            .collect()
    }

    fn row(&self, key: &str) -> Option<(usize, Value)> {
        let day: chrono::NaiveDate = key.parse().ok()?;
        let total = self.days.get(&day)?;
        Some((self.days.range(..day).count(), day_json(day, total)))
    }

    fn keys_for(&self, event: &RecordedEvent) -> Vec<String> {
        let money = matches!(event.event_type.as_str(), "MoneyDeposited" | "MoneyWithdrawn");
        if event.stream_type == "BankAccount" && money {
            vec![event.recorded_at.date_naive().to_string()]
        } else {
            Vec::new()
        }
    }
}

fn day_json(day: chrono::NaiveDate, total: &DailyTotal) -> Value {
    json!({
        "day": day.to_string(),
        "deposits_cents": total.deposits_cents,
        "deposit_count": total.deposit_count,
        "withdrawals_cents": total.withdrawals_cents,
        "withdrawal_count": total.withdrawal_count,
    })
}
