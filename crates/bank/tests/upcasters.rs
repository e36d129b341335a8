//! Each upcaster moves one version hop: a JSON fixture in, the golden JSON out.

use rewind_bank::account::AccountEvent;
use rewind_bank::order::OrderEvent;
use rewind_bank::upcast::{MoneyDepositedV1, OrderCreatedV1, upcasters};
use rewind_core::{DomainEvent, Payload, RecordedEvent, UpcastError, Upcaster};
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
        schema_version: Some(1),
        recorded_at: None,
        data: json!({"amount": 0.3}).into(),
        metadata: json!({}).into(),
    };
    let upcast = upcasters().upcast(&v1).unwrap().expect("v1 is upcast");
    assert_eq!(upcast.schema_version, Some(2));
    // 0.1 + 0.2 style float noise never reaches the state: 0.3 is exactly 30 cents.
    assert_eq!(upcast.data, json!({"amount_cents": 30, "reference": ""}));
    assert_eq!(upcasters().upcast(&upcast).unwrap(), None);
}

/// Upcasting where the event is (what the reading thread does ahead of the fold) gives what
/// `upcast` gives, and leaves an event it cannot upcast as it was.
#[test]
fn upcasting_in_place_gives_what_upcast_gives() {
    let event = |schema_version, data: Value| RecordedEvent {
        global_position: 7,
        stream_id: "account-0001".into(),
        stream_type: "BankAccount".into(),
        stream_version: 2,
        event_id: uuid::Uuid::nil(),
        event_type: "MoneyDeposited".into(),
        schema_version: Some(schema_version),
        recorded_at: None,
        data: Payload::from_stored_json(data.to_string()),
        metadata: json!({"correlation_id": "c-1"}).into(),
    };
    let chain = upcasters();
    let v1 = event(1, json!({"amount": 12.5, "reference": "r"}));
    let upcast = chain.upcast(&v1).unwrap().expect("v1 is upcast");
    let mut in_place = event(1, json!({"amount": 12.5, "reference": "r"}));
    assert!(chain.upcast_in_place(&mut in_place).unwrap());
    assert_eq!(in_place, upcast);
    assert!(
        !chain.upcast_in_place(&mut in_place).unwrap(),
        "a current event is left alone"
    );
    assert_eq!(in_place, upcast);

    for (schema_version, data) in [(1, json!({"sum": 3})), (3, json!({}))] {
        let mut bad = event(schema_version, data.clone());
        assert!(chain.upcast_in_place(&mut bad).is_err());
        assert_eq!(bad, event(schema_version, data), "left as it was");
    }
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
        schema_version: Some(3),
        recorded_at: None,
        data: json!({}).into(),
        metadata: json!({}).into(),
    };
    assert!(matches!(
        upcasters().upcast(&future),
        Err(UpcastError::FromTheFuture { .. })
    ));
}

/// The typed path reads the fixtures into the same golden output as the tree path.
#[test]
fn the_typed_path_gives_the_golden_output_without_a_tree() {
    for (upcaster, name) in [
        (&MoneyDepositedV1 as &dyn Upcaster, "money_deposited"),
        (&OrderCreatedV1, "order_created"),
    ] {
        let text = serde_json::to_string(&fixture(&format!("{name}.v1.json"))).unwrap();
        let payload = Payload::from_json(text).unwrap();
        let upcast = upcaster
            .upcast_payload(&payload)
            .expect("a v1 fixture takes the typed path");
        assert_eq!(upcast, fixture(&format!("{name}.v2.json")), "{name}");
    }
}

mod typed_path {
    use super::*;
    use proptest::prelude::*;

    /// Amounts of every kind: whole numbers, exact and inexact cents, huge, and not numbers.
    fn amount() -> impl Strategy<Value = Value> {
        prop_oneof![
            4 => (-1_000_000i64..1_000_000).prop_map(|n| json!(n)),
            6 => (-100_000_000i64..100_000_000).prop_map(|c| json!(c as f64 / 100.0)),
            1 => any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            1 => Just(json!(u64::MAX)),
            1 => Just(json!("12.50")),
            1 => Just(Value::Null),
        ]
    }

    fn text() -> impl Strategy<Value = Value> {
        prop_oneof![
            8 => "[a-z0-9-]{0,12}".prop_map(Value::String),
            1 => Just(json!(7)),
            1 => Just(json!(0.1)),
            1 => Just(Value::Null),
        ]
    }

    /// An object with some of `fields` (each present with the given chance), or now and then
    /// the same values as an array, which no upcaster accepts.
    fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> impl Strategy<Value = Value> {
        let parts: Vec<_> = fields
            .into_iter()
            .map(|(name, value)| (prop::bool::weighted(0.97), value).prop_map(move |(present, v)| (name, present, v)))
            .collect();
        (parts, prop::bool::weighted(0.05)).prop_map(|(parts, as_array)| {
            if as_array {
                Value::Array(parts.into_iter().map(|(_, _, v)| v).collect())
            } else {
                Value::Object(
                    parts
                        .into_iter()
                        .filter(|(_, present, _)| *present)
                        .map(|(name, _, v)| (name.to_owned(), v))
                        .collect(),
                )
            }
        })
    }

    fn deposit() -> impl Strategy<Value = Value> {
        object(vec![
            ("amount", amount().boxed()),
            ("reference", text().boxed()),
            ("note", text().boxed()),
        ])
    }

    fn order() -> impl Strategy<Value = Value> {
        let customer = prop_oneof![
            8 => "customer-[0-9]{1,4}".prop_map(Value::String),
            1 => Just(json!("cust-9")),
            1 => Just(json!(42)),
        ];
        let quantity = prop_oneof![
            8 => (0i64..20).prop_map(|n| json!(n)),
            1 => Just(json!(2.0)),
            1 => Just(json!("3")),
        ];
        let item = object(vec![
            ("sku", text().boxed()),
            ("name", text().boxed()),
            ("qty", quantity.boxed()),
            ("price", amount().boxed()),
        ]);
        object(vec![
            ("id", text().boxed()),
            ("customer_id", customer.boxed()),
            (
                "order_items",
                prop::collection::vec(item, 0..3).prop_map(Value::Array).boxed(),
            ),
            ("total", amount().boxed()),
        ])
    }

    /// Wherever the typed path answers, it gives what the tree path gives; where it does not,
    /// the tree path answers (an upcast or an error). Returns whether the typed path answered.
    fn same_as_tree(upcaster: &dyn Upcaster, v1: &Value) -> Result<bool, TestCaseError> {
        let text = serde_json::to_string(v1).expect("a tree writes as text");
        let payload = Payload::from_json(text).expect("written text is JSON");
        let tree = upcaster.upcast(v1);
        match upcaster.upcast_payload(&payload) {
            Some(typed) => {
                let tree = tree
                    .map_err(|e| TestCaseError::fail(format!("typed path upcast what the tree path refused: {e}")))?;
                prop_assert_eq!(typed.value(), &tree);
                // The reading it keeps for the fold is what reading its text gives.
                let text = Payload::from_json(typed.text().expect("written as text").to_owned()).expect("JSON");
                match upcaster.event_type() {
                    "MoneyDeposited" => prop_assert_eq!(
                        typed.cached::<AccountEvent>(),
                        Some(&AccountEvent::decode("MoneyDeposited", &text).expect("decodes"))
                    ),
                    "OrderCreated" => prop_assert_eq!(
                        typed.cached::<OrderEvent>(),
                        Some(&OrderEvent::decode("OrderCreated", &text).expect("decodes"))
                    ),
                    other => return Err(TestCaseError::fail(format!("no reading to compare for {other}"))),
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn deposits_upcast_alike(v1 in deposit()) {
            same_as_tree(&MoneyDepositedV1, &v1)?;
        }

        #[test]
        fn orders_upcast_alike(v1 in order()) {
            same_as_tree(&OrderCreatedV1, &v1)?;
        }
    }

    /// The typed path is not a path that never answers: well-formed v1 payloads take it.
    #[test]
    fn well_formed_payloads_take_the_typed_path() {
        let deposit = json!({"amount": 12.5, "reference": "r-1"});
        assert!(matches!(same_as_tree(&MoneyDepositedV1, &deposit), Ok(true)));
        let order = json!({
            "id": "order-1",
            "customer_id": "customer-7",
            "order_items": [{"sku": "p-1", "name": "Pen", "qty": 2, "price": 1.25}],
            "total": 2.5,
        });
        assert!(matches!(same_as_tree(&OrderCreatedV1, &order), Ok(true)));
        // An item given as an array is refused by both paths.
        let array_item = json!({"customer_id": "customer-7", "order_items": [["p-1", "Pen", 2, 1.25]], "total": 2.5});
        assert!(matches!(same_as_tree(&OrderCreatedV1, &array_item), Ok(false)));
        assert!(OrderCreatedV1.upcast(&array_item).is_err());
    }
}
