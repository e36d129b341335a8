//! `Order` behaviour, as given/when/then sentences.

mod scenario;

use rewind_bank::order::*;
use rewind_core::Aggregate;
use scenario::Scenario;

fn item(quantity: i64, unit_price_cents: i64) -> OrderItem {
    OrderItem {
        product_id: "sku-1".into(),
        product_name: "Mug".into(),
        quantity,
        unit_price_cents,
    }
}
fn created(items: Vec<OrderItem>) -> OrderEvent {
    let total_cents = items_total_cents(&items);
    OrderEvent::OrderCreated(OrderCreated {
        customer_id: "customer-0001".into(),
        account_id: "account-0001".into(),
        items,
        total_cents,
    })
}
fn create(items: Vec<OrderItem>) -> OrderCommand {
    OrderCommand::CreateOrder {
        customer_id: "customer-0001".into(),
        account_id: "account-0001".into(),
        items,
    }
}

#[test]
fn creating_an_order_totals_its_items() {
    Scenario::<Order>::given([])
        .when(create(vec![item(2, 12_50), item(1, 5_00)]))
        .then([created(vec![item(2, 12_50), item(1, 5_00)])]);
}

#[test]
fn an_order_without_items_is_rejected() {
    Scenario::<Order>::given([])
        .when(create(vec![]))
        .then_err(OrderError::NoItems);
}

#[test]
fn an_item_with_a_zero_quantity_is_rejected() {
    Scenario::<Order>::given([])
        .when(create(vec![item(0, 1_00)]))
        .then_err(OrderError::InvalidItem {
            product_id: "sku-1".into(),
        });
}

#[test]
fn a_pending_order_is_confirmed() {
    Scenario::<Order>::given([created(vec![item(1, 1_00)])])
        .when(OrderCommand::ConfirmOrder)
        .then([OrderEvent::OrderConfirmed]);
}

#[test]
fn a_confirmed_order_is_not_confirmed_again() {
    Scenario::<Order>::given([created(vec![item(1, 1_00)]), OrderEvent::OrderConfirmed])
        .when(OrderCommand::ConfirmOrder)
        .then_err(OrderError::NotPending {
            status: OrderStatus::Confirmed,
        });
}

#[test]
fn only_a_confirmed_order_ships() {
    Scenario::<Order>::given([created(vec![item(1, 1_00)])])
        .when(OrderCommand::ShipOrder)
        .then_err(OrderError::NotConfirmed {
            status: OrderStatus::Pending,
        });
    Scenario::<Order>::given([created(vec![item(1, 1_00)]), OrderEvent::OrderConfirmed])
        .when(OrderCommand::ShipOrder)
        .then([OrderEvent::OrderShipped]);
}

#[test]
fn a_shipped_order_is_never_cancelled_or_confirmed_again() {
    let history = [
        created(vec![item(1, 1_00)]),
        OrderEvent::OrderConfirmed,
        OrderEvent::OrderShipped,
    ];
    Scenario::<Order>::given(history.clone())
        .when(OrderCommand::CancelOrder {
            reason: "changed my mind".into(),
        })
        .then_err(OrderError::AlreadyShipped);
    Scenario::<Order>::given(history)
        .when(OrderCommand::ConfirmOrder)
        .then_err(OrderError::NotPending {
            status: OrderStatus::Shipped,
        });
}

#[test]
fn a_pending_order_can_be_cancelled() {
    Scenario::<Order>::given([created(vec![item(1, 1_00)])])
        .when(OrderCommand::CancelOrder {
            reason: "payment rejected".into(),
        })
        .then([OrderEvent::OrderCancelled(OrderCancelled {
            reason: "payment rejected".into(),
        })]);
}

#[test]
fn a_recorded_total_that_differs_from_the_items_breaks_the_total_invariant() {
    let mut event = created(vec![item(2, 1_00)]);
    if let OrderEvent::OrderCreated(c) = &mut event {
        c.total_cents = 5_00;
    }
    let before = Order::default().watched();
    let mut order = Order::default();
    order.apply(&event).unwrap();
    let broken = Order::broken_invariants(&before, &event, &order);
    assert_eq!(broken[0].invariant, "order_total_matches_items");
}
