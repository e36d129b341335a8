//! The payment saga (order fulfilment): pays for each new order from the customer's account.
//!
//! On `OrderCreated` it withdraws the total; if the withdrawal succeeds it confirms the order,
//! otherwise it records `WithdrawalRejected` on the account and cancels the order. Every event
//! it causes carries the triggering event's id as `causation_id` and the order's
//! `correlation_id`. The decisions here are pure; [`crate::service::BankService`] runs them.

use rewind_core::{DomainEvent, RecordedEvent};

use crate::account::AccountCommand;
use crate::order::{OrderCommand, OrderEvent};

/// A command the saga sends, with the ids it must carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SagaCommand<C> {
    pub stream_id: String,
    pub command: C,
    pub correlation_id: Option<String>,
    pub causation_id: String,
}

pub struct PaymentSaga;

impl PaymentSaga {
    /// On `OrderCreated`: withdraw the order's total from the customer's account, with the
    /// order id as the idempotency reference (a retried saga step never pays twice).
    pub fn on_order_created(order_created: &RecordedEvent) -> Option<SagaCommand<AccountCommand>> {
        let OrderEvent::OrderCreated(created) =
            OrderEvent::decode(&order_created.event_type, &order_created.data).ok()?
        else {
            return None;
        };
        Some(SagaCommand {
            stream_id: created.account_id.to_string(),
            command: AccountCommand::WithdrawMoney {
                amount_cents: created.total_cents,
                reference: order_created.stream_id.clone(),
            },
            correlation_id: order_created.correlation_id().map(str::to_owned),
            causation_id: order_created.event_id.to_string(),
        })
    }

    /// The payment went through: confirm the order.
    pub fn on_payment_taken(order_id: &str, money_withdrawn: &RecordedEvent) -> SagaCommand<OrderCommand> {
        SagaCommand {
            stream_id: order_id.to_owned(),
            command: OrderCommand::ConfirmOrder,
            correlation_id: money_withdrawn.correlation_id().map(str::to_owned),
            causation_id: money_withdrawn.event_id.to_string(),
        }
    }

    /// The payment was refused: record the rejection on the account (caused by the order).
    pub fn on_payment_refused(
        order_created: &RecordedEvent,
        account_id: &str,
        amount_cents: i64,
        reason: &str,
    ) -> SagaCommand<AccountCommand> {
        SagaCommand {
            stream_id: account_id.to_owned(),
            command: AccountCommand::RecordWithdrawalRejection {
                amount_cents,
                reason: reason.to_owned(),
            },
            correlation_id: order_created.correlation_id().map(str::to_owned),
            causation_id: order_created.event_id.to_string(),
        }
    }

    /// After the rejection is recorded: cancel the order (caused by the rejection).
    pub fn on_rejection_recorded(order_id: &str, withdrawal_rejected: &RecordedEvent) -> SagaCommand<OrderCommand> {
        SagaCommand {
            stream_id: order_id.to_owned(),
            command: OrderCommand::CancelOrder {
                reason: "payment rejected".into(),
            },
            correlation_id: withdrawal_rejected.correlation_id().map(str::to_owned),
            causation_id: withdrawal_rejected.event_id.to_string(),
        }
    }
}
