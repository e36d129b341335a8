//! Each upcaster moves one version hop: a JSON fixture in, the golden JSON out.

use rewind_bank::upcast::{MoneyDepositedV1, OrderCreatedV1, upcasters};
use rewind_core::{RecordedEvent, UpcastError, Upcaster};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/upcast/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture exists")).expect("fixture is JSON")
}

#[test]
fn money_deposited_v1_in_major_units_becomes_v2_in_cents() {
    let upcast = MoneyDepositedV1.upcast(&fixture("money_deposited.v1.json")).unwrap();
    assert_eq!(upcast, fixture("money_deposited.v2.json"));
}

#[test]
fn order_created_v1_becomes_the_v2_shape() {
    let upcast = OrderCreatedV1.upcast(&fixture("order_created.v1.json")).unwrap();
    assert_eq!(upcast, fixture("order_created.v2.json"));
}

#[test]
fn a_v1_amount_that_is_not_a_whole_number_of_cents_fails_to_upcast() {
    let error = MoneyDepositedV1.upcast(&json!({"amount": 0.125})).unwrap_err();
    assert!(
        matches!(error, UpcastError::Failed { from_version: 1, .. }),
        "{error:?}"
    );
}

#[test]
fn a_v1_deposit_without_an_amount_fails_to_upcast() {
    assert!(MoneyDepositedV1.upcast(&json!({"sum": 3})).is_err());
}

#[test]
fn the_chain_brings_a_v1_event_to_v2_and_leaves_v2_alone() {
    let v1 = RecordedEvent {
        global_position: 1,
        stream_id: "account-0001".into(),
        stream_type: "BankAccount".into(),
        stream_version: 2,
        event_id: uuid::Uuid::nil(),
        event_type: "MoneyDeposited".into(),
        schema_version: 1,
        recorded_at: chrono::DateTime::UNIX_EPOCH,
        data: json!({"amount": 0.3}).into(),
        metadata: json!({}),
    };
    let upcast = upcasters().upcast(&v1).unwrap().expect("v1 is upcast");
    assert_eq!(upcast.schema_version, 2);
    // 0.1 + 0.2 style float noise never reaches the state: 0.3 is exactly 30 cents.
    assert_eq!(upcast.data, json!({"amount_cents": 30, "reference": ""}));
    assert_eq!(upcasters().upcast(&upcast).unwrap(), None);
}

#[test]
fn an_event_from_a_future_schema_is_an_upcast_error() {
    let future = RecordedEvent {
        global_position: 1,
        stream_id: "account-0001".into(),
        stream_type: "BankAccount".into(),
        stream_version: 2,
        event_id: uuid::Uuid::nil(),
        event_type: "MoneyDeposited".into(),
        schema_version: 3,
        recorded_at: chrono::DateTime::UNIX_EPOCH,
        data: json!({}).into(),
        metadata: json!({}),
    };
    assert!(matches!(
        upcasters().upcast(&future),
        Err(UpcastError::FromTheFuture { .. })
    ));
}
