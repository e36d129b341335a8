//! The bank's read models answer row queries (`rows`, `row`) exactly as their JSON state
//! orders them, whatever order the rows were created in.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

use rewind_bank::AccountBalances;
use rewind_core::{Projection, RecordedEvent, rows_of};

fn opened(position: u64, account: &str) -> RecordedEvent {
    RecordedEvent {
        global_position: position,
        stream_id: account.into(),
        stream_type: "BankAccount".into(),
        stream_version: 1,
        event_id: Uuid::from_u128(u128::from(position)),
        event_type: "AccountOpened".into(),
        schema_version: Some(1),
        recorded_at: Some(DateTime::<Utc>::UNIX_EPOCH),
        data: json!({"holder": format!("holder of {account}"), "currency": "EUR"}).into(),
        metadata: json!({}).into(),
    }
}

proptest! {
    #[test]
    fn rows_and_row_agree_with_the_state_in_any_creation_order(
        ids in prop::collection::vec(0u32..500, 1..150),
        start in 0usize..160,
        count in 0usize..40,
    ) {
        let mut balances = AccountBalances::default();
        for (i, id) in ids.iter().enumerate() {
            balances.apply(&opened(i as u64 + 1, &format!("account-{id:04}"))).unwrap();
        }
        let expected = rows_of(&balances.state());
        prop_assert_eq!(balances.row_count(), expected.len());
        let window: Vec<_> = expected.iter().skip(start).take(count).cloned().collect();
        prop_assert_eq!(balances.rows(start, count), window);
        for (index, (key, row)) in expected.iter().enumerate() {
            prop_assert_eq!(balances.row(key), Some((index, row.clone())));
        }
        prop_assert_eq!(balances.row("account-9999"), None);
    }
}
