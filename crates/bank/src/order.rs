//! The `Order` aggregate: created with items, confirmed once paid, shipped, or cancelled.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use smol_str::SmolStr;
use thiserror::Error;

use rewind_core::{Aggregate, ApplyError, DomainEvent, Payload, Violation};

use crate::codec::{decode_payload, encode_payload};

/// An order's state, as the debugger shows it. A debugger keeps one state per order, millions
/// of them, so it is small: ids and names up to 23 bytes are held inline (`SmolStr`), and the
/// items and the reason are sized to what they hold (no spare room a list keeps to grow).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Order {
    pub customer_id: SmolStr,
    pub account_id: SmolStr,
    pub items: Box<[OrderItem]>,
    pub total_cents: i64,
    pub status: OrderStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<Box<str>>,
}

// 96 bytes: the size class below the 112 a `Vec` and a `String` took, times 1.8M orders at 10M.
const _: () = assert!(std::mem::size_of::<Order>() <= 96);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    pub product_id: SmolStr,
    pub product_name: SmolStr,
    pub quantity: i64,
    pub unit_price_cents: i64,
}

impl OrderItem {
    pub fn line_total_cents(&self) -> i64 {
        self.quantity.saturating_mul(self.unit_price_cents)
    }
}

/// The sum of the items' line totals.
pub fn items_total_cents(items: &[OrderItem]) -> i64 {
    items
        .iter()
        .map(OrderItem::line_total_cents)
        .fold(0, i64::saturating_add)
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    #[default]
    NotCreated,
    Pending,
    Confirmed,
    Shipped,
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderCommand {
    CreateOrder {
        customer_id: String,
        account_id: String,
        items: Vec<OrderItem>,
    },
    ConfirmOrder,
    ShipOrder,
    CancelOrder {
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCreated {
    pub customer_id: SmolStr,
    pub account_id: SmolStr,
    pub items: Vec<OrderItem>,
    pub total_cents: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCancelled {
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderEvent {
    OrderCreated(OrderCreated),
    OrderConfirmed,
    OrderShipped,
    OrderCancelled(OrderCancelled),
}

impl DomainEvent for OrderEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::OrderCreated(_) => "OrderCreated",
            Self::OrderConfirmed => "OrderConfirmed",
            Self::OrderShipped => "OrderShipped",
            Self::OrderCancelled(_) => "OrderCancelled",
        }
    }

    fn schema_version(&self) -> u32 {
        match self {
            // v1 had `id`, `order_items` and a float `total`; see `upcast::OrderCreatedV1`.
            Self::OrderCreated(_) => 2,
            _ => 1,
        }
    }

    fn decode(event_type: &str, data: &Payload) -> Result<Self, ApplyError> {
        Ok(match event_type {
            "OrderCreated" => Self::OrderCreated(decode_payload(event_type, data)?),
            "OrderConfirmed" => Self::OrderConfirmed,
            "OrderShipped" => Self::OrderShipped,
            "OrderCancelled" => Self::OrderCancelled(decode_payload(event_type, data)?),
            _ => {
                return Err(ApplyError::UnknownEventType {
                    stream_type: Order::STREAM_TYPE.into(),
                    event_type: event_type.into(),
                });
            }
        })
    }

    fn encode(&self) -> Value {
        match self {
            Self::OrderCreated(e) => encode_payload(e),
            Self::OrderCancelled(e) => encode_payload(e),
            Self::OrderConfirmed | Self::OrderShipped => Value::Object(serde_json::Map::new()),
        }
    }
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum OrderError {
    #[error("the order already exists")]
    AlreadyCreated,
    #[error("the order does not exist yet")]
    NotCreated,
    #[error("an order needs at least one item")]
    NoItems,
    #[error("item {product_id}: quantity and unit price must be positive")]
    InvalidItem { product_id: String },
    #[error("only a pending order can be confirmed; this one is {status:?}")]
    NotPending { status: OrderStatus },
    #[error("only a confirmed order can ship; this one is {status:?}")]
    NotConfirmed { status: OrderStatus },
    #[error("a shipped order cannot be cancelled")]
    AlreadyShipped,
    #[error("the order is already cancelled")]
    AlreadyCancelled,
}

impl Order {
    fn confirm(&self) -> Result<(), OrderError> {
        match self.status {
            OrderStatus::Pending => Ok(()),
            OrderStatus::NotCreated => Err(OrderError::NotCreated),
            status => Err(OrderError::NotPending { status }),
        }
    }

    fn ship(&self) -> Result<(), OrderError> {
        match self.status {
            OrderStatus::Confirmed => Ok(()),
            OrderStatus::NotCreated => Err(OrderError::NotCreated),
            status => Err(OrderError::NotConfirmed { status }),
        }
    }

    fn cancel(&self) -> Result<(), OrderError> {
        match self.status {
            OrderStatus::Pending | OrderStatus::Confirmed => Ok(()),
            OrderStatus::NotCreated => Err(OrderError::NotCreated),
            OrderStatus::Shipped => Err(OrderError::AlreadyShipped),
            OrderStatus::Cancelled => Err(OrderError::AlreadyCancelled),
        }
    }
}

impl Aggregate for Order {
    const STREAM_TYPE: &'static str = "Order";
    type Command = OrderCommand;
    type Event = OrderEvent;
    type Error = OrderError;
    /// Whether the total matched the items before an event.
    type Watched = bool;

    fn decide(&self, command: &OrderCommand) -> Result<Vec<OrderEvent>, OrderError> {
        let event = match command {
            OrderCommand::CreateOrder {
                customer_id,
                account_id,
                items,
            } => {
                if self.status != OrderStatus::NotCreated {
                    return Err(OrderError::AlreadyCreated);
                }
                if items.is_empty() {
                    return Err(OrderError::NoItems);
                }
                if let Some(bad) = items.iter().find(|i| i.quantity <= 0 || i.unit_price_cents <= 0) {
                    return Err(OrderError::InvalidItem {
                        product_id: bad.product_id.to_string(),
                    });
                }
                OrderEvent::OrderCreated(OrderCreated {
                    customer_id: customer_id.as_str().into(),
                    account_id: account_id.as_str().into(),
                    items: items.clone(),
                    total_cents: items_total_cents(items),
                })
            }
            OrderCommand::ConfirmOrder => {
                self.confirm()?;
                OrderEvent::OrderConfirmed
            }
            OrderCommand::ShipOrder => {
                self.ship()?;
                OrderEvent::OrderShipped
            }
            OrderCommand::CancelOrder { reason } => {
                self.cancel()?;
                OrderEvent::OrderCancelled(OrderCancelled { reason: reason.clone() })
            }
        };
        Ok(vec![event])
    }

    /// Refuses transitions the order's life cycle does not have (confirming twice, shipping an
    /// unconfirmed order, cancelling a shipped one); a wrong total is folded and reported as a
    /// broken invariant.
    fn apply(&mut self, event: &OrderEvent) -> Result<(), OrderError> {
        match event {
            OrderEvent::OrderCreated(created) => {
                if self.status != OrderStatus::NotCreated {
                    return Err(OrderError::AlreadyCreated);
                }
                self.customer_id.clone_from(&created.customer_id);
                self.account_id.clone_from(&created.account_id);
                self.items = created.items.as_slice().into();
                self.total_cents = created.total_cents;
                self.status = OrderStatus::Pending;
            }
            OrderEvent::OrderConfirmed => {
                self.confirm()?;
                self.status = OrderStatus::Confirmed;
            }
            OrderEvent::OrderShipped => {
                self.ship()?;
                self.status = OrderStatus::Shipped;
            }
            OrderEvent::OrderCancelled(cancelled) => {
                self.cancel()?;
                self.status = OrderStatus::Cancelled;
                self.cancel_reason = Some(cancelled.reason.as_str().into());
            }
        }
        Ok(())
    }

    fn watched(&self) -> bool {
        self.status == OrderStatus::NotCreated || self.total_cents == items_total_cents(&self.items)
    }

    fn broken_invariants(was_consistent: &bool, _event: &OrderEvent, after: &Self) -> Vec<Violation> {
        let was_consistent = *was_consistent;
        let sum = items_total_cents(&after.items);
        if was_consistent && after.total_cents != sum {
            vec![Violation {
                invariant: "order_total_matches_items".into(),
                message: format!(
                    "order total {} cents, but its items sum to {sum} cents",
                    after.total_cents
                ),
            }]
        } else {
            Vec::new()
        }
    }
}
