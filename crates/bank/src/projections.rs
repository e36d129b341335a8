//! The bank's read models. Their rows keep their history when a debugger asks them to
//! ([`Projection::keep_history`]), so it reads them at any position without replaying events.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use smol_str::{SmolStr, format_smolstr};

use rewind_core::{Aggregate, ApplyError, Projection, ProjectionView, RecordedEvent};

use crate::account::{AccountOpened, AccountStatus, BankAccount};
use crate::codec::decode_payload;
use crate::history::{RowHistory, RowsAt};
use crate::order::Order;
use crate::versions::{Change, read_signed, write_signed};

/// The `Projection` methods of a read model kept in a [`RowHistory`]: its rows now, its history
/// on request, and a view of it at any position. `$whole` writes the whole read model as JSON,
/// `$row` one row.
macro_rules! rows_from_history {
    ($rows:ident, $whole:ident, $row:ident) => {
        fn state(&self) -> Value {
            $whole(&self.$rows.latest())
        }

        fn row_count(&self) -> usize {
            self.$rows.latest().len()
        }

        fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)> {
            self.$rows.latest().rows(start, count, $row)
        }

        fn row(&self, key: &str) -> Option<(usize, Value)> {
            self.$rows.latest().row(key, $row)
        }

        fn keep_history(&mut self) -> bool {
            self.$rows.keep_history();
            true
        }

        fn as_of(&self, position: Option<u64>) -> Option<Box<dyn ProjectionView>> {
            Some(Box::new(View {
                name: Self::NAME,
                rows: self.$rows.at(position)?,
                json: $whole,
                row: $row,
            }))
        }

        fn shrink_to_fit(&mut self) {
            self.$rows.shrink_to_fit();
        }
    };
}

/// Balance and status per account.
#[derive(Clone, Debug, Default)]
pub struct AccountBalances {
    accounts: RowHistory<AccountVersion>,
}

/// A row, as shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountBalance {
    pub holder: Arc<str>,
    pub currency: Arc<str>,
    pub balance_cents: i64,
    pub status: AccountStatus,
}

/// A row as kept: what never changes is shared by all its versions, so a version is 24 bytes.
#[derive(Clone, Debug)]
struct AccountVersion {
    account: Arc<(Arc<str>, Arc<str>)>,
    balance_cents: i64,
    status: AccountStatus,
}

/// A change is the balance's difference and the status, when the account's holder and currency
/// are the same ones: about 4 bytes instead of 32.
impl Change for AccountVersion {
    fn write_change(from: &Self, to: &Self, out: &mut Vec<u8>) -> bool {
        if !Arc::ptr_eq(&from.account, &to.account) {
            return false;
        }
        write_signed(out, to.balance_cents.wrapping_sub(from.balance_cents));
        out.push(match to.status {
            AccountStatus::NotOpened => 0,
            AccountStatus::Open => 1,
            AccountStatus::Frozen => 2,
            AccountStatus::Closed => 3,
        });
        true
    }

    fn read_change(value: &mut Self, input: &mut &[u8]) -> Option<()> {
        value.balance_cents = value.balance_cents.wrapping_add(read_signed(input)?);
        let (&status, rest) = input.split_first()?;
        *input = rest;
        value.status = match status {
            0 => AccountStatus::NotOpened,
            1 => AccountStatus::Open,
            2 => AccountStatus::Frozen,
            3 => AccountStatus::Closed,
            _ => return None,
        };
        Some(())
    }
}

impl AccountVersion {
    fn shown(&self) -> AccountBalance {
        AccountBalance {
            holder: Arc::clone(&self.account.0),
            currency: Arc::clone(&self.account.1),
            balance_cents: self.balance_cents,
            status: self.status,
        }
    }
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
                    event.global_position,
                    &event.stream_id,
                    AccountVersion {
                        account: Arc::new((Arc::from(opened.holder.as_str()), Arc::from(opened.currency.as_str()))),
                        balance_cents: 0,
                        status: AccountStatus::Open,
                    },
                );
                return Ok(());
            }
            AccountChange::Nothing => return Ok(()),
            change => change,
        };
        // An event for an account that never opened changes nothing: the aggregate reports it.
        self.accounts
            .update(event.global_position, &event.stream_id, |row| match change {
                AccountChange::Balance(delta) => row.balance_cents += delta,
                AccountChange::Status(status) => row.status = status,
                AccountChange::Opened(_) | AccountChange::Nothing => {}
            });
        Ok(())
    }

    rows_from_history!(accounts, balances_json, balance_json);

    fn keys_for(&self, event: &RecordedEvent) -> Vec<String> {
        if event.stream_type == "BankAccount" {
            vec![event.stream_id.clone()]
        } else {
            Vec::new()
        }
    }
}

fn balances_json(rows: &RowsAt<AccountVersion>) -> Value {
    Value::Object(
        rows.iter()
            .map(|(id, row)| (id.to_owned(), to_json(&row.shown())))
            .collect(),
    )
}

fn balance_json(_id: &str, row: &AccountVersion) -> Value {
    to_json(&row.shown())
}

impl AccountBalances {
    pub fn balance(&self, account_id: &str) -> Option<AccountBalance> {
        self.accounts.get(account_id).map(AccountVersion::shown)
    }
}

pub(crate) fn to_json<T: Serialize>(row: &T) -> Value {
    serde_json::to_value(row).unwrap_or(Value::Null)
}

/// A read model's rows at one position (see [`Projection::as_of`]).
struct View<V> {
    name: &'static str,
    rows: RowsAt<V>,
    /// The whole read model as JSON, as the projection's `state` writes it.
    json: fn(&RowsAt<V>) -> Value,
    row: fn(&str, &V) -> Value,
}

impl<V: Change + Send + Sync> ProjectionView for View<V> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn to_json(&self) -> Value {
        (self.json)(&self.rows)
    }
    fn row_count(&self) -> usize {
        self.rows.len()
    }
    fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)> {
        self.rows.rows(start, count, self.row)
    }
    fn row(&self, key: &str) -> Option<(usize, Value)> {
        self.rows.row(key, self.row)
    }
    fn changed_at(&self, key: &str) -> Option<u64> {
        self.rows.changed_at(key)
    }
}

/// From `OrderCreated`, what the summary shows (not the items).
#[derive(Deserialize)]
struct OrderOpened {
    customer_id: SmolStr,
    total_cents: i64,
}

/// One row per order: who, how much, where it is in its life cycle, and when it got there.
#[derive(Clone, Debug, Default)]
pub struct OrderSummaries {
    orders: RowHistory<OrderVersion>,
}

/// A row as kept: what never changes is shared by all its versions.
#[derive(Clone, Debug)]
struct OrderVersion {
    order: Arc<OrderOpening>,
    status: crate::order::OrderStatus,
    confirmed_at: Option<DateTime<Utc>>,
    shipped_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
}

/// The order's id is its row's key.
#[derive(Debug)]
struct OrderOpening {
    /// Held inline (up to 23 bytes): a second allocation per order was about 60 MB at 10M.
    customer_id: SmolStr,
    total_cents: i64,
    created_at: DateTime<Utc>,
}

/// An order has a few versions (about 2.4): they are never packed, and kept whole if one ever
/// has many.
impl Change for OrderVersion {
    fn write_change(_from: &Self, _to: &Self, _out: &mut Vec<u8>) -> bool {
        false
    }

    fn read_change(_value: &mut Self, _input: &mut &[u8]) -> Option<()> {
        None
    }
}

impl OrderVersion {
    fn shown(&self, order_id: &str) -> OrderSummary {
        OrderSummary {
            order_id: Arc::from(order_id),
            customer_id: Arc::from(self.order.customer_id.as_str()),
            total_cents: self.order.total_cents,
            status: self.status,
            created_at: self.order.created_at,
            confirmed_at: self.confirmed_at,
            shipped_at: self.shipped_at,
            cancelled_at: self.cancelled_at,
        }
    }
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
                event.global_position,
                &event.stream_id,
                OrderVersion {
                    order: Arc::new(OrderOpening {
                        customer_id: created.customer_id,
                        total_cents: created.total_cents,
                        created_at: event.recorded_at,
                    }),
                    status: OrderStatus::Pending,
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
        let at = Some(event.recorded_at);
        self.orders.update(event.global_position, &event.stream_id, |row| {
            row.status = status;
            match status {
                OrderStatus::Confirmed => row.confirmed_at = at,
                OrderStatus::Shipped => row.shipped_at = at,
                _ => row.cancelled_at = at,
            }
        });
        Ok(())
    }

    rows_from_history!(orders, summaries_json, summary_json);

    fn keys_for(&self, event: &RecordedEvent) -> Vec<String> {
        if event.stream_type == "Order" {
            vec![event.stream_id.clone()]
        } else {
            Vec::new()
        }
    }
}

fn summaries_json(rows: &RowsAt<OrderVersion>) -> Value {
    Value::Array(rows.iter().map(|(id, row)| to_json(&row.shown(id))).collect())
}

fn summary_json(id: &str, row: &OrderVersion) -> Value {
    to_json(&row.shown(id))
}

/// Deposits and withdrawals per UTC day.
#[derive(Clone, Debug, Default)]
pub struct DailyTotals {
    /// By day as `YYYY-MM-DD`, which sorts as the days do.
    days: RowHistory<DailyTotal>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DailyTotal {
    pub deposits_cents: i64,
    pub deposit_count: u32,
    pub withdrawals_cents: i64,
    pub withdrawal_count: u32,
}

/// A change is the difference of each total: one of them moves, so about 6 bytes instead of 24.
impl Change for DailyTotal {
    fn write_change(from: &Self, to: &Self, out: &mut Vec<u8>) -> bool {
        write_signed(out, to.deposits_cents.wrapping_sub(from.deposits_cents));
        write_signed(out, i64::from(to.deposit_count) - i64::from(from.deposit_count));
        write_signed(out, to.withdrawals_cents.wrapping_sub(from.withdrawals_cents));
        write_signed(out, i64::from(to.withdrawal_count) - i64::from(from.withdrawal_count));
        true
    }

    fn read_change(value: &mut Self, input: &mut &[u8]) -> Option<()> {
        value.deposits_cents = value.deposits_cents.wrapping_add(read_signed(input)?);
        value.deposit_count = u32::try_from(i64::from(value.deposit_count) + read_signed(input)?).ok()?;
        value.withdrawals_cents = value.withdrawals_cents.wrapping_add(read_signed(input)?);
        value.withdrawal_count = u32::try_from(i64::from(value.withdrawal_count) + read_signed(input)?).ok()?;
        Some(())
    }
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
        // `YYYY-MM-DD` fits inline: no allocation per event.
        let day = format_smolstr!("{}", event.recorded_at.date_naive());
        let add = |total: &mut DailyTotal| {
            if event.event_type == "MoneyDeposited" {
                total.deposits_cents += cents;
                total.deposit_count += 1;
            } else {
                // A withdrawal's change is negative.
                total.withdrawals_cents -= cents;
                total.withdrawal_count += 1;
            }
        };
        if !self.days.update(event.global_position, &day, add) {
            let mut total = DailyTotal::default();
            add(&mut total);
            self.days.insert(event.global_position, &day, total);
        }
        Ok(())
    }

    rows_from_history!(days, days_json, day_json);

    fn keys_for(&self, event: &RecordedEvent) -> Vec<String> {
        let money = matches!(event.event_type.as_str(), "MoneyDeposited" | "MoneyWithdrawn");
        if event.stream_type == "BankAccount" && money {
            vec![event.recorded_at.date_naive().to_string()]
        } else {
            Vec::new()
        }
    }
}

fn days_json(rows: &RowsAt<DailyTotal>) -> Value {
    Value::Array(rows.iter().map(|(day, total)| day_json(day, &total)).collect())
}

fn day_json(day: &str, total: &DailyTotal) -> Value {
    json!({
        "day": day,
        "deposits_cents": total.deposits_cents,
        "deposit_count": total.deposit_count,
        "withdrawals_cents": total.withdrawals_cents,
        "withdrawal_count": total.withdrawal_count,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn status(n: u8) -> AccountStatus {
        [
            AccountStatus::NotOpened,
            AccountStatus::Open,
            AccountStatus::Frozen,
            AccountStatus::Closed,
        ][usize::from(n % 4)]
    }

    proptest! {
        /// A change read back turns the version before into the version after.
        #[test]
        fn account_and_day_changes_read_back_as_written(
            a in any::<(i64, u8, i64, u32, i64, u32)>(),
            b in any::<(i64, u8, i64, u32, i64, u32)>(),
        ) {
            let account: Arc<(Arc<str>, Arc<str>)> = Arc::new(("Ada".into(), "EUR".into()));
            let version = |(balance_cents, s, ..): (i64, u8, i64, u32, i64, u32)| AccountVersion {
                account: Arc::clone(&account),
                balance_cents,
                status: status(s),
            };
            let (from, to) = (version(a), version(b));
            let mut out = Vec::new();
            prop_assert!(AccountVersion::write_change(&from, &to, &mut out));
            let mut read = from.clone();
            let mut input = out.as_slice();
            prop_assert_eq!(AccountVersion::read_change(&mut read, &mut input), Some(()));
            prop_assert!(input.is_empty());
            prop_assert_eq!(read.shown(), to.shown());
            let reopened = AccountVersion { account: Arc::new(("Ada".into(), "EUR".into())), ..to };
            prop_assert!(!AccountVersion::write_change(&from, &reopened, &mut Vec::new()), "a new holder is kept whole");

            let day = |(_, _, deposits_cents, deposit_count, withdrawals_cents, withdrawal_count): (i64, u8, i64, u32, i64, u32)| {
                DailyTotal { deposits_cents, deposit_count, withdrawals_cents, withdrawal_count }
            };
            let (from, to) = (day(a), day(b));
            let mut out = Vec::new();
            prop_assert!(DailyTotal::write_change(&from, &to, &mut out));
            let mut read = from;
            let mut input = out.as_slice();
            prop_assert_eq!(DailyTotal::read_change(&mut read, &mut input), Some(()));
            prop_assert!(input.is_empty());
            prop_assert_eq!(read, to);
        }
    }
}
