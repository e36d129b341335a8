//! The payment saga and the in-memory write side, as behaviour sentences.

use chrono::{TimeZone, Utc};
use rewind_bank::account::AccountCommand;
use rewind_bank::order::OrderItem;
use rewind_bank::{AccountStatus, BankService, OrderOutcome, OrderStatus};

fn service() -> BankService {
    BankService::new(
        7,
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).single().expect("valid time"),
    )
}

fn open_with(service: &mut BankService, account: &str, cents: i64) {
    service
        .handle_account(
            account,
            &AccountCommand::OpenAccount {
                holder: "Ada".into(),
                currency: "EUR".into(),
            },
            None,
            None,
        )
        .expect("opens");
    service
        .handle_account(
            account,
            &AccountCommand::DepositMoney {
                amount_cents: cents,
                reference: "initial".into(),
            },
            None,
            None,
        )
        .expect("deposits");
}

fn mug(quantity: i64) -> Vec<OrderItem> {
    vec![OrderItem {
        product_id: "sku-102".into(),
        product_name: "Ceramic mug".into(),
        quantity,
        unit_price_cents: 12_50,
    }]
}

#[test]
fn given_enough_funds_when_an_order_is_placed_then_it_is_paid_and_confirmed() {
    let mut bank = service();
    open_with(&mut bank, "account-0001", 100_00);
    bank.drain();
    let outcome = bank
        .place_order("order-00001", "customer-0001", "account-0001", mug(2))
        .unwrap();
    assert_eq!(outcome, OrderOutcome::Confirmed);
    assert_eq!(bank.account("account-0001").unwrap().balance_cents, 75_00);
    assert_eq!(bank.order("order-00001").unwrap().status, OrderStatus::Confirmed);

    let events = bank.drain();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["OrderCreated", "MoneyWithdrawn", "OrderConfirmed"]);
    let correlation = events[0].correlation_id().unwrap();
    // Every event the saga caused carries the order's correlation id and its trigger's id.
    assert_eq!(events[1].correlation_id(), Some(correlation));
    assert_eq!(events[1].causation_id(), Some(events[0].event_id.to_string().as_str()));
    assert_eq!(events[2].correlation_id(), Some(correlation));
    assert_eq!(events[2].causation_id(), Some(events[1].event_id.to_string().as_str()));
}

#[test]
fn given_too_little_money_when_an_order_is_placed_then_the_rejection_is_recorded_and_the_order_cancelled() {
    let mut bank = service();
    open_with(&mut bank, "account-0001", 10_00);
    bank.drain();
    let outcome = bank
        .place_order("order-00001", "customer-0001", "account-0001", mug(2))
        .unwrap();
    assert!(matches!(outcome, OrderOutcome::Cancelled { .. }));
    assert_eq!(bank.account("account-0001").unwrap().balance_cents, 10_00);
    assert_eq!(bank.order("order-00001").unwrap().status, OrderStatus::Cancelled);

    let events = bank.drain();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["OrderCreated", "WithdrawalRejected", "OrderCancelled"]);
    assert_eq!(events[1].causation_id(), Some(events[0].event_id.to_string().as_str()));
    assert_eq!(events[2].causation_id(), Some(events[1].event_id.to_string().as_str()));
    assert_eq!(events[2].correlation_id(), events[0].correlation_id());
}

#[test]
fn given_a_processed_reference_when_the_same_withdrawal_is_retried_then_nothing_new_is_recorded() {
    let mut bank = service();
    open_with(&mut bank, "account-0001", 50_00);
    let withdraw = AccountCommand::WithdrawMoney {
        amount_cents: 20_00,
        reference: "atm-1".into(),
    };
    assert_eq!(
        bank.handle_account("account-0001", &withdraw, None, None)
            .unwrap()
            .len(),
        1
    );
    assert!(
        bank.handle_account("account-0001", &withdraw, None, None)
            .unwrap()
            .is_empty()
    );
    assert_eq!(bank.account("account-0001").unwrap().balance_cents, 30_00);
}

#[test]
fn given_legacy_mode_when_money_is_deposited_then_the_v1_shape_is_recorded() {
    let mut bank = service();
    bank.set_legacy_schema(true);
    open_with(&mut bank, "account-0001", 12_50);
    let events = bank.drain();
    assert_eq!(events[1].schema_version, Some(1));
    assert_eq!(events[1].data, serde_json::json!({"amount": 12.5}));
    assert_eq!(bank.account("account-0001").unwrap().status, AccountStatus::Open);
}

#[test]
fn recorded_events_have_contiguous_versions_and_increasing_positions_and_times() {
    let mut bank = service();
    open_with(&mut bank, "account-0001", 100_00);
    bank.place_order("order-00001", "customer-0001", "account-0001", mug(1))
        .unwrap();
    let events = bank.drain();
    for pair in events.windows(2) {
        assert_eq!(pair[1].global_position, pair[0].global_position + 1);
        assert!(pair[1].recorded_at > pair[0].recorded_at);
    }
    let versions: Vec<u64> = events
        .iter()
        .filter(|e| e.stream_id == "account-0001")
        .map(|e| e.stream_version)
        .collect();
    assert_eq!(versions, [1, 2, 3]);
}
