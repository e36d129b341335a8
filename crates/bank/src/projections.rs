//! The bank's read models. Their rows keep their history when a debugger asks them to
//! ([`Projection::keep_history`]), so it reads them at any position without replaying events.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use smol_str::{SmolStr, format_smolstr};

use rewind_core::{Aggregate, ApplyError, Projection, ProjectionView, RecordedEvent, Typed};

use crate::account::{AccountEvent, AccountOpened, AccountStatus, BankAccount};
use crate::codec::decode_payload;
use crate::history::{RowHistory, RowsAt};
use crate::order::{Order, OrderEvent};
use crate::versions::{Change, read_signed, read_varint, write_signed, write_varint};

/// The `Projection` methods of a read model kept in a [`RowHistory`]: its rows now, its history
/// on request, and a view of it at any position. `$whole` writes the whole read model as JSON,
/// `$row` one row; both also get what the model's `parts()` hands them (the [`Parts`] its
/// versions point into, or nothing).
macro_rules! rows_from_history {
    ($rows:ident, $whole:ident, $row:ident) => {
        fn state(&self) -> Value {
            $whole(&self.$rows.latest(), &self.parts())
        }

        fn row_count(&self) -> usize {
            self.$rows.latest().len()
        }

        fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)> {
            let parts = self.parts();
            self.$rows
                .latest()
                .rows(start, count, |key, row| $row(key, row, &parts))
        }

        fn row(&self, key: &str) -> Option<(usize, Value)> {
            let parts = self.parts();
            self.$rows.latest().row(key, |key, row| $row(key, row, &parts))
        }

        fn keep_history(&mut self) -> bool {
            self.$rows.keep_history();
            true
        }

        fn as_of(&self, position: Option<u64>) -> Option<Box<dyn ProjectionView>> {
            Some(Box::new(View {
                name: Self::NAME,
                rows: self.$rows.at(position)?,
                parts: self.parts(),
                json: $whole,
                row: $row,
            }))
        }

        fn shrink_to_fit(&mut self) {
            self.$rows.shrink_to_fit();
            self.shrink_parts();
        }
    };
}

/// What a read model's row versions share, by number: an account's holder and currency, an
/// order's opening and the times it reached each status. A version holds a `u32` into it, not
/// a pointer to an allocation of its own, so versions are plain copies: no allocation per row
/// and no reference count to touch at every change. Views share it; a change to a shared one
/// copies it first, so a view keeps what it saw.
#[derive(Clone, Debug)]
struct Parts<T>(Arc<Vec<T>>);

impl<T> Default for Parts<T> {
    fn default() -> Self {
        Self(Arc::new(Vec::new()))
    }
}

impl<T: Clone> Parts<T> {
    fn push(&mut self, part: T) -> u32 {
        let parts = Arc::make_mut(&mut self.0);
        parts.push(part);
        u32::try_from(parts.len() - 1).unwrap_or(u32::MAX)
    }

    fn get(&self, number: u32) -> Option<&T> {
        self.0.get(number as usize)
    }

    fn get_mut(&mut self, number: u32) -> Option<&mut T> {
        Arc::make_mut(&mut self.0).get_mut(number as usize)
    }

    fn shrink_to_fit(&mut self) {
        Arc::make_mut(&mut self.0).shrink_to_fit();
    }
}

/// Balance and status per account.
#[derive(Clone, Debug, Default)]
pub struct AccountBalances {
    accounts: RowHistory<AccountVersion>,
    /// Holders and currencies, by [`AccountVersion::holder`].
    holders: Parts<Holder>,
}

/// A row, as shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountBalance {
    pub holder: Arc<str>,
    pub currency: Arc<str>,
    pub balance_cents: i64,
    pub status: AccountStatus,
}

/// What an `AccountOpened` said, shared by the account's versions.
#[derive(Clone, Debug)]
struct Holder {
    holder: Arc<str>,
    currency: Arc<str>,
}

/// A row as kept: 16 bytes.
#[derive(Clone, Copy, Debug)]
struct AccountVersion {
    holder: u32,
    balance_cents: i64,
    status: AccountStatus,
}

/// A change is the balance's difference and the status, when the account's holder and currency
/// are the same ones: about 4 bytes instead of 24.
impl Change for AccountVersion {
    fn write_change(from: &Self, to: &Self, out: &mut Vec<u8>) -> bool {
        if from.holder != to.holder {
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
    fn shown(&self, holders: &Parts<Holder>) -> AccountBalance {
        // Every version points at a holder its projection pushed.
        let (holder, currency) = holders.get(self.holder).map_or_else(
            || (Arc::from(""), Arc::from("")),
            |h| (Arc::clone(&h.holder), Arc::clone(&h.currency)),
        );
        AccountBalance {
            holder,
            currency,
            balance_cents: self.balance_cents,
            status: self.status,
        }
    }
}

/// What a bank account event changes in the read models. They read only the fields they use
/// (an amount, not the reference that came with it), as any tolerant reader does; the aggregate
/// checks the whole payload.
enum AccountChange<'a> {
    Opened(Typed<'a, AccountOpened>),
    /// Cents added (negative: taken).
    Balance(i64),
    Status(AccountStatus),
    Nothing,
}

#[derive(Deserialize)]
struct Amount {
    amount_cents: i64,
}

impl<'a> AccountChange<'a> {
    fn read(event: &'a RecordedEvent) -> Result<Self, ApplyError> {
        // The aggregate's reading of the whole event, when it made one that decoded.
        if let Some(read) = event.data.cached::<AccountEvent>() {
            return Ok(match read {
                AccountEvent::AccountOpened(opened) => Self::Opened(Typed::Kept(opened)),
                AccountEvent::MoneyDeposited(deposit) => Self::Balance(deposit.amount_cents),
                AccountEvent::MoneyWithdrawn(withdrawal) => Self::Balance(-withdrawal.amount_cents),
                AccountEvent::AccountFrozen(_) => Self::Status(AccountStatus::Frozen),
                AccountEvent::AccountUnfrozen => Self::Status(AccountStatus::Open),
                AccountEvent::AccountClosed => Self::Status(AccountStatus::Closed),
                AccountEvent::WithdrawalRejected(_) => Self::Nothing,
            });
        }
        let event_type = event.event_type.as_str();
        let amount = || decode_payload::<Amount>(event_type, &event.data).map(|a| a.amount_cents);
        Ok(match event_type {
            "AccountOpened" => Self::Opened(Typed::Owned(decode_payload(event_type, &event.data)?)),
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
        self.fold(event, None)
    }

    fn apply_in_stream(&mut self, event: &RecordedEvent, stream: u32) -> Result<(), ApplyError> {
        self.fold(event, Some(stream))
    }

    fn warm(&self, event: &RecordedEvent, stream: u32) {
        self.warm_all(&[(event, stream)]);
    }

    fn warm_all(&self, events: &[(&RecordedEvent, u32)]) {
        self.accounts.warm_all(own_streams(events, ACCOUNTS), |row| {
            std::hint::black_box(row.balance_cents);
        });
    }

    rows_from_history!(accounts, balances_json, balance_json);

    fn keys_for(&self, event: &RecordedEvent) -> Vec<String> {
        own_stream_key(event, ACCOUNTS)
    }
}

impl AccountBalances {
    /// Folds `event`, of the fold's stream number `stream` when it has one.
    fn fold(&mut self, event: &RecordedEvent, stream: Option<u32>) -> Result<(), ApplyError> {
        if !is_category(event, ACCOUNTS) {
            return Ok(());
        }
        let change = match AccountChange::read(event)? {
            AccountChange::Opened(opened) => {
                self.accounts.insert_in(
                    stream,
                    event.global_position,
                    &event.stream_id,
                    AccountVersion {
                        holder: self.holders.push(Holder {
                            holder: Arc::from(opened.holder.as_str()),
                            currency: Arc::from(opened.currency.as_str()),
                        }),
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
            .update_in(stream, event.global_position, &event.stream_id, |row| match change {
                AccountChange::Balance(delta) => row.balance_cents += delta,
                AccountChange::Status(status) => row.status = status,
                AccountChange::Opened(_) | AccountChange::Nothing => {}
            });
        Ok(())
    }
}

fn balances_json(rows: &RowsAt<AccountVersion>, holders: &Parts<Holder>) -> Value {
    Value::Object(
        rows.iter()
            .map(|(id, row)| (id.to_owned(), to_json(&row.shown(holders))))
            .collect(),
    )
}

fn balance_json(_id: &str, row: &AccountVersion, holders: &Parts<Holder>) -> Value {
    to_json(&row.shown(holders))
}

impl AccountBalances {
    pub fn balance(&self, account_id: &str) -> Option<AccountBalance> {
        self.accounts.get(account_id).map(|row| row.shown(&self.holders))
    }

    fn parts(&self) -> Parts<Holder> {
        self.holders.clone()
    }

    fn shrink_parts(&mut self) {
        self.holders.shrink_to_fit();
    }
}

/// The category of the bank's account streams (`account-0042`), which its domain claims.
const ACCOUNTS: &str = "account";
/// The category of its order streams (`order-00325`).
const ORDERS: &str = "order";

/// Whether `event` is of a stream of `category`: the read models follow the streams the bank
/// claims, whatever type the store gave them.
fn is_category(event: &RecordedEvent, category: &str) -> bool {
    rewind_core::category(&event.stream_id) == Some(category)
}

/// The key of the row a read model keyed by stream keeps for `event`: its stream's id, if the
/// stream is of `category`.
fn own_stream_key(event: &RecordedEvent, category: &str) -> Vec<String> {
    if is_category(event, category) {
        vec![event.stream_id.to_string()]
    } else {
        Vec::new()
    }
}

/// Of `(event, stream number)` pairs, those of `category`'s streams, as `(stream number,
/// stream id)`: the rows a read model with a row per such stream warms for them.
fn own_streams<'a>(events: &'a [(&'a RecordedEvent, u32)], category: &'a str) -> impl Iterator<Item = (u32, &'a str)> {
    events
        .iter()
        .filter(move |(event, _)| is_category(event, category))
        .map(|&(event, stream)| (stream, event.stream_id.as_str()))
}

pub(crate) fn to_json<T: Serialize>(row: &T) -> Value {
    serde_json::to_value(row).unwrap_or(Value::Null)
}

/// A read model's rows at one position (see [`Projection::as_of`]), with the parts its
/// versions point into (`P`).
struct View<V, P> {
    name: &'static str,
    rows: RowsAt<V>,
    parts: P,
    /// The whole read model as JSON, as the projection's `state` writes it.
    json: fn(&RowsAt<V>, &P) -> Value,
    row: fn(&str, &V, &P) -> Value,
}

impl<V: Change + Send + Sync, P: Send + Sync> ProjectionView for View<V, P> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn to_json(&self) -> Value {
        (self.json)(&self.rows, &self.parts)
    }
    fn row_count(&self) -> usize {
        self.rows.len()
    }
    fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)> {
        self.rows
            .rows(start, count, |key, row| (self.row)(key, row, &self.parts))
    }
    fn row(&self, key: &str) -> Option<(usize, Value)> {
        self.rows.row(key, |key, row| (self.row)(key, row, &self.parts))
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
    /// Orders as their versions show them, by [`OrderVersion::order`].
    records: Parts<OrderRecord>,
}

/// An order's opening, and the time it reached each status. A version shows the times its
/// `reached` bits name: a time is written here when the order first reaches that status, which
/// no earlier version shows, so earlier versions stay as they were. An order that reaches a
/// status again at another time gets a new record for its versions from then on.
#[derive(Clone, Debug)]
struct OrderRecord {
    customer_id: SmolStr,
    total_cents: i64,
    /// `None` when the store records no time (as for every time here).
    created_at: Option<DateTime<Utc>>,
    confirmed_at: Option<DateTime<Utc>>,
    shipped_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
}

impl OrderRecord {
    fn time(&self, status: crate::order::OrderStatus) -> Option<DateTime<Utc>> {
        use crate::order::OrderStatus;
        match status {
            OrderStatus::Confirmed => self.confirmed_at,
            OrderStatus::Shipped => self.shipped_at,
            _ => self.cancelled_at,
        }
    }

    /// The time it reached `status` (a status an event moves it to).
    fn time_mut(&mut self, status: crate::order::OrderStatus) -> &mut Option<DateTime<Utc>> {
        use crate::order::OrderStatus;
        match status {
            OrderStatus::Confirmed => &mut self.confirmed_at,
            OrderStatus::Shipped => &mut self.shipped_at,
            _ => &mut self.cancelled_at,
        }
    }
}

/// A row as kept: 8 bytes.
#[derive(Clone, Copy, Debug)]
struct OrderVersion {
    order: u32,
    status: crate::order::OrderStatus,
    /// Which of the record's times this version shows ([`REACHED_CONFIRMED`] …).
    reached: u8,
}

const REACHED_CONFIRMED: u8 = 1;
const REACHED_SHIPPED: u8 = 2;
const REACHED_CANCELLED: u8 = 4;

/// An order has a few versions (about 2.4), so they are rarely packed; a change is the whole
/// version, 6 bytes or so.
impl Change for OrderVersion {
    fn write_change(_from: &Self, to: &Self, out: &mut Vec<u8>) -> bool {
        write_varint(out, u64::from(to.order));
        out.push(order_status_byte(to.status));
        out.push(to.reached);
        true
    }

    fn read_change(value: &mut Self, input: &mut &[u8]) -> Option<()> {
        value.order = u32::try_from(read_varint(input)?).ok()?;
        let (&[status, reached], rest) = input.split_first_chunk()?;
        *input = rest;
        value.status = order_status_from_byte(status)?;
        value.reached = reached;
        Some(())
    }
}

fn order_status_byte(status: crate::order::OrderStatus) -> u8 {
    use crate::order::OrderStatus;
    match status {
        OrderStatus::NotCreated => 0,
        OrderStatus::Pending => 1,
        OrderStatus::Confirmed => 2,
        OrderStatus::Shipped => 3,
        OrderStatus::Cancelled => 4,
    }
}

fn order_status_from_byte(byte: u8) -> Option<crate::order::OrderStatus> {
    use crate::order::OrderStatus;
    Some(match byte {
        0 => OrderStatus::NotCreated,
        1 => OrderStatus::Pending,
        2 => OrderStatus::Confirmed,
        3 => OrderStatus::Shipped,
        4 => OrderStatus::Cancelled,
        _ => return None,
    })
}

impl OrderVersion {
    fn shown(self, order_id: &str, records: &Parts<OrderRecord>) -> OrderSummary {
        let record = records.get(self.order);
        let time = |bit: u8, at: fn(&OrderRecord) -> Option<DateTime<Utc>>| {
            record.filter(|_| self.reached & bit != 0).and_then(at)
        };
        OrderSummary {
            order_id: Arc::from(order_id),
            customer_id: Arc::from(record.map_or("", |r| r.customer_id.as_str())),
            total_cents: record.map_or(0, |r| r.total_cents),
            status: self.status,
            created_at: record.and_then(|r| r.created_at),
            confirmed_at: time(REACHED_CONFIRMED, |r| r.confirmed_at),
            shipped_at: time(REACHED_SHIPPED, |r| r.shipped_at),
            cancelled_at: time(REACHED_CANCELLED, |r| r.cancelled_at),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderSummary {
    pub order_id: Arc<str>,
    pub customer_id: Arc<str>,
    pub total_cents: i64,
    pub status: crate::order::OrderStatus,
    pub created_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl Projection for OrderSummaries {
    const NAME: &'static str = "order_summaries";

    fn apply(&mut self, event: &RecordedEvent) -> Result<(), ApplyError> {
        self.fold(event, None)
    }

    fn apply_in_stream(&mut self, event: &RecordedEvent, stream: u32) -> Result<(), ApplyError> {
        self.fold(event, Some(stream))
    }

    fn warm(&self, event: &RecordedEvent, stream: u32) {
        self.warm_all(&[(event, stream)]);
    }

    fn warm_all(&self, events: &[(&RecordedEvent, u32)]) {
        self.orders.warm_all(own_streams(events, ORDERS), |row| {
            std::hint::black_box(self.records.get(row.order).map(|record| record.total_cents));
        });
    }

    rows_from_history!(orders, summaries_json, summary_json);

    fn keys_for(&self, event: &RecordedEvent) -> Vec<String> {
        own_stream_key(event, ORDERS)
    }
}

impl OrderSummaries {
    /// Folds `event`, of the fold's stream number `stream` when it has one.
    fn fold(&mut self, event: &RecordedEvent, stream: Option<u32>) -> Result<(), ApplyError> {
        use crate::order::OrderStatus;
        if !is_category(event, ORDERS) {
            return Ok(());
        }
        let event_type = event.event_type.as_str();
        if event_type == "OrderCreated" {
            // The aggregate's reading of the whole event, when it made one that decoded.
            let created = match event.data.cached::<OrderEvent>() {
                Some(OrderEvent::OrderCreated(created)) => OrderOpened {
                    customer_id: created.customer_id.clone(),
                    total_cents: created.total_cents,
                },
                _ => decode_payload(event_type, &event.data)?,
            };
            let order = self.records.push(OrderRecord {
                customer_id: created.customer_id,
                total_cents: created.total_cents,
                created_at: event.recorded_at,
                confirmed_at: None,
                shipped_at: None,
                cancelled_at: None,
            });
            self.orders.insert_in(
                stream,
                event.global_position,
                &event.stream_id,
                OrderVersion {
                    order,
                    status: OrderStatus::Pending,
                    reached: 0,
                },
            );
            return Ok(());
        }
        let (status, reached) = match event_type {
            "OrderConfirmed" => (OrderStatus::Confirmed, REACHED_CONFIRMED),
            "OrderShipped" => (OrderStatus::Shipped, REACHED_SHIPPED),
            "OrderCancelled" => (OrderStatus::Cancelled, REACHED_CANCELLED),
            _ => {
                return Err(ApplyError::UnknownEventType {
                    stream_type: Order::STREAM_TYPE.into(),
                    event_type: event_type.into(),
                });
            }
        };
        let at = event.recorded_at;
        let records = &mut self.records;
        self.orders
            .update_in(stream, event.global_position, &event.stream_id, |row| {
                row.status = status;
                row.reached |= reached;
                let Some(record) = records.get(row.order) else { return };
                match record.time(status) {
                    Some(earlier) if Some(earlier) == at => {}
                    // Shown by earlier versions: they keep it, the versions from here get a copy.
                    Some(_) => {
                        let mut again = record.clone();
                        *again.time_mut(status) = at;
                        row.order = records.push(again);
                    }
                    None => {
                        if let Some(record) = records.get_mut(row.order) {
                            *record.time_mut(status) = at;
                        }
                    }
                }
            });
        Ok(())
    }
}

fn summaries_json(rows: &RowsAt<OrderVersion>, records: &Parts<OrderRecord>) -> Value {
    Value::Array(rows.iter().map(|(id, row)| to_json(&row.shown(id, records))).collect())
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "the shape `View` takes for every read model"
)]
fn summary_json(id: &str, row: &OrderVersion, records: &Parts<OrderRecord>) -> Value {
    to_json(&row.shown(id, records))
}

impl OrderSummaries {
    fn parts(&self) -> Parts<OrderRecord> {
        self.records.clone()
    }

    fn shrink_parts(&mut self) {
        self.records.shrink_to_fit();
    }
}

/// Deposits and withdrawals per UTC day.
#[derive(Clone, Debug, Default)]
pub struct DailyTotals {
    /// By day as `YYYY-MM-DD`, which sorts as the days do.
    days: RowHistory<DailyTotal>,
    /// The last event's day and its key: events come in time order, so most share the day of
    /// the one before, and its key is not formatted again.
    last_day: Option<(Option<NaiveDate>, SmolStr)>,
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

/// A day's row key: the date, or for events the store records no time for, a row of their own.
fn day_key(date: Option<chrono::NaiveDate>) -> SmolStr {
    match date {
        Some(date) => format_smolstr!("{date}"),
        None => SmolStr::new_static("(time not recorded)"),
    }
}

impl Projection for DailyTotals {
    const NAME: &'static str = "daily_totals";

    fn apply(&mut self, event: &RecordedEvent) -> Result<(), ApplyError> {
        if !is_category(event, ACCOUNTS) || !matches!(event.event_type.as_str(), "MoneyDeposited" | "MoneyWithdrawn") {
            return Ok(());
        }
        let AccountChange::Balance(cents) = AccountChange::read(event)? else {
            return Ok(());
        };
        let date = event.recorded_at.map(|at| at.date_naive());
        let day = match &self.last_day {
            Some((last, key)) if *last == date => key.clone(),
            _ => {
                // `YYYY-MM-DD` fits inline: no allocation.
                let key = day_key(date);
                self.last_day = Some((date, key.clone()));
                key
            }
        };
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
        if is_category(event, ACCOUNTS) && money {
            vec![day_key(event.recorded_at.map(|at| at.date_naive())).to_string()]
        } else {
            Vec::new()
        }
    }
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "the shape `View` takes for every read model"
)]
fn days_json(rows: &RowsAt<DailyTotal>, parts: &()) -> Value {
    Value::Array(rows.iter().map(|(day, total)| day_json(day, &total, parts)).collect())
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "the shape `View` takes for every read model"
)]
fn day_json(day: &str, total: &DailyTotal, _parts: &()) -> Value {
    json!({
        "day": day,
        "deposits_cents": total.deposits_cents,
        "deposit_count": total.deposit_count,
        "withdrawals_cents": total.withdrawals_cents,
        "withdrawal_count": total.withdrawal_count,
    })
}

impl DailyTotals {
    /// A day's totals are all its rows hold: nothing is shared.
    #[allow(clippy::unused_self, reason = "the shape `rows_from_history!` calls")]
    fn parts(&self) {}

    #[allow(clippy::unused_self, reason = "the shape `rows_from_history!` calls")]
    fn shrink_parts(&mut self) {}
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// `to`, read back from the change written from `from`; `None` if none was written, or the
    /// bytes did not read back whole.
    fn read_back<V: Change>(from: &V, to: &V) -> Option<V> {
        let mut out = Vec::new();
        if !V::write_change(from, to, &mut out) {
            return None;
        }
        let mut read = from.clone();
        let mut input = out.as_slice();
        V::read_change(&mut read, &mut input)?;
        input.is_empty().then_some(read)
    }

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
        fn account_order_and_day_changes_read_back_as_written(
            a in any::<(i64, u8, i64, u32, i64, u32)>(),
            b in any::<(i64, u8, i64, u32, i64, u32)>(),
        ) {
            let holders = {
                let mut holders = Parts::default();
                holders.push(Holder { holder: "Ada".into(), currency: "EUR".into() });
                holders
            };
            let version = |(balance_cents, s, ..): (i64, u8, i64, u32, i64, u32)| AccountVersion {
                holder: 0,
                balance_cents,
                status: status(s),
            };
            let (from, to) = (version(a), version(b));
            prop_assert_eq!(read_back(&from, &to).map(|read| read.shown(&holders)), Some(to.shown(&holders)));
            let reopened = AccountVersion { holder: 1, ..to };
            prop_assert!(!AccountVersion::write_change(&from, &reopened, &mut Vec::new()), "a new holder is kept whole");

            let order = |(_, s, _, n, ..): (i64, u8, i64, u32, i64, u32)| OrderVersion {
                order: n,
                status: order_status_from_byte(s % 5).unwrap_or_default(),
                reached: s,
            };
            let (from, to) = (order(a), order(b));
            let fields = |v: OrderVersion| (v.order, v.status, v.reached);
            prop_assert_eq!(read_back(&from, &to).map(fields), Some(fields(to)));

            let day = |(_, _, deposits_cents, deposit_count, withdrawals_cents, withdrawal_count): (i64, u8, i64, u32, i64, u32)| {
                DailyTotal { deposits_cents, deposit_count, withdrawals_cents, withdrawal_count }
            };
            let (from, to) = (day(a), day(b));
            prop_assert_eq!(read_back(&from, &to), Some(to));
        }
    }
}
