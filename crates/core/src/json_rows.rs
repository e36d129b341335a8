//! A read model whose rows come from elsewhere (a plug-in answers which rows each event
//! changed), kept here with every version of every row so a debugger can show it at any
//! position without asking again: rows in key order, paged, each with the event that last
//! changed it, and rows that an event removed.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::domain::{ApplyError, ProjectionState, ProjectionView};
use crate::event::RecordedEvent;

/// One row's versions: `(global position, the row then, or None once removed)`, in position
/// order.
type Versions = Vec<(u64, Option<Arc<Value>>)>;

#[derive(Debug, Default)]
struct Rows {
    /// Row numbers by key, in key order.
    keys: BTreeMap<String, u32>,
    /// Each row's key and versions, by row number.
    all: Vec<(String, Versions)>,
    /// `(position, row)` for every change, in position order: what an event changed.
    changes: Vec<(u64, u32)>,
}

impl Rows {
    /// The row as it was after every event at or before `position` (`None`: before any).
    fn at(&self, row: u32, position: Option<u64>) -> Option<&Arc<Value>> {
        let position = position?;
        let versions = &self.all.get(row as usize)?.1;
        let after = versions.partition_point(|(p, _)| *p <= position);
        versions.get(after.checked_sub(1)?)?.1.as_ref()
    }

    /// The position of the last change to `row` at or before `position`.
    fn changed_at(&self, row: u32, position: Option<u64>) -> Option<u64> {
        let position = position?;
        let versions = &self.all.get(row as usize)?.1;
        let after = versions.partition_point(|(p, _)| *p <= position);
        Some(versions.get(after.checked_sub(1)?)?.0)
    }
}

/// A read model kept from row changes, with its history. Copies share the rows; the first
/// change to a shared copy copies them.
#[derive(Clone, Debug)]
pub struct JsonRowHistory {
    name: String,
    rows: Arc<Rows>,
}

impl JsonRowHistory {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            rows: Arc::default(),
        }
    }

    /// Sets the rows the event at `position` changed (`None`: removed). Positions never go
    /// backwards; changes at one position are one event's.
    pub fn set(&mut self, position: u64, key: &str, row: Option<Value>) {
        let rows = Arc::make_mut(&mut self.rows);
        let next = rows.all.len() as u32;
        let id = *rows.keys.entry(key.to_owned()).or_insert(next);
        if id == next {
            rows.all.push((key.to_owned(), Vec::new()));
        }
        let versions = &mut rows.all[id as usize].1;
        let row = row.map(Arc::new);
        match versions.last_mut() {
            // A second change at one position (one event) replaces the first.
            Some((at, kept)) if *at == position => *kept = row,
            _ => versions.push((position, row)),
        }
        if rows.changes.last() != Some(&(position, id)) {
            rows.changes.push((position, id));
        }
    }

    /// The read model after every event at or before `position`.
    pub fn view(&self, position: Option<u64>) -> JsonRowsAt {
        let rows = &self.rows;
        let shown: Vec<u32> = rows
            .keys
            .values()
            .copied()
            .filter(|&row| rows.at(row, position).is_some())
            .collect();
        JsonRowsAt {
            name: self.name.clone(),
            rows: Arc::clone(&self.rows),
            position,
            shown,
        }
    }
}

impl Clone for Rows {
    fn clone(&self) -> Self {
        Self {
            keys: self.keys.clone(),
            all: self.all.clone(),
            changes: self.changes.clone(),
        }
    }
}

/// A [`JsonRowHistory`] at one position: the rows there, in key order.
pub struct JsonRowsAt {
    name: String,
    rows: Arc<Rows>,
    position: Option<u64>,
    /// The rows that exist at the position, in key order.
    shown: Vec<u32>,
}

impl ProjectionView for JsonRowsAt {
    fn name(&self) -> &str {
        &self.name
    }

    fn to_json(&self) -> Value {
        let mut map = Map::new();
        for (key, row) in self.rows(0, self.shown.len()) {
            map.insert(key, row);
        }
        Value::Object(map)
    }

    fn row_count(&self) -> usize {
        self.shown.len()
    }

    fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)> {
        self.shown
            .iter()
            .skip(start)
            .take(count)
            .filter_map(|&row| {
                let value = self.rows.at(row, self.position)?;
                Some((self.rows.all[row as usize].0.clone(), Value::clone(value)))
            })
            .collect()
    }

    fn row(&self, key: &str) -> Option<(usize, Value)> {
        let &row = self.rows.keys.get(key)?;
        let value = self.rows.at(row, self.position)?;
        let index = self.shown.iter().position(|&r| r == row)?;
        Some((index, Value::clone(value)))
    }

    fn changed_at(&self, key: &str) -> Option<u64> {
        let &row = self.rows.keys.get(key)?;
        self.rows.changed_at(row, self.position)
    }
}

impl ProjectionView for JsonRowHistory {
    fn name(&self) -> &str {
        &self.name
    }

    fn to_json(&self) -> Value {
        self.view(Some(u64::MAX)).to_json()
    }

    fn row_count(&self) -> usize {
        self.view(Some(u64::MAX)).row_count()
    }

    fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)> {
        self.view(Some(u64::MAX)).rows(start, count)
    }

    fn row(&self, key: &str) -> Option<(usize, Value)> {
        self.view(Some(u64::MAX)).row(key)
    }

    fn changed_at(&self, key: &str) -> Option<u64> {
        let &row = self.rows.keys.get(key)?;
        self.rows.changed_at(row, Some(u64::MAX))
    }
}

impl ProjectionState for JsonRowHistory {
    /// Its rows come from [`ProjectionState::apply_rows`], not from folding events here.
    fn apply(&mut self, _event: &RecordedEvent) -> Result<(), ApplyError> {
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn ProjectionState> {
        Box::new(self.clone())
    }

    /// The rows the event at this position changed.
    fn keys_for(&self, event: &RecordedEvent) -> Vec<String> {
        let position = event.global_position;
        let changes = &self.rows.changes;
        let start = changes.partition_point(|(p, _)| *p < position);
        changes[start..]
            .iter()
            .take_while(|(p, _)| *p == position)
            .map(|&(_, row)| self.rows.all[row as usize].0.clone())
            .collect()
    }

    /// It always keeps its history: that is all it is.
    fn keep_history(&mut self) -> bool {
        true
    }

    fn as_of(&self, position: Option<u64>) -> Option<Box<dyn ProjectionView>> {
        Some(Box::new(self.view(position)))
    }

    fn shrink_to_fit(&mut self) {
        let rows = Arc::make_mut(&mut self.rows);
        rows.all.shrink_to_fit();
        rows.changes.shrink_to_fit();
    }

    fn apply_rows(&mut self, position: u64, rows: &[(String, Option<Value>)]) {
        for (key, row) in rows {
            self.set(position, key, row.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rows_are_read_at_any_position_in_key_order_with_their_last_change_and_removals() {
        let mut history = JsonRowHistory::new("balances");
        history.set(1, "b", Some(json!({"balance": 10})));
        history.set(2, "a", Some(json!({"balance": 5})));
        history.set(3, "b", Some(json!({"balance": 7})));
        history.set(4, "a", None);

        let before = history.view(None);
        assert_eq!(before.row_count(), 0);
        let at_2 = history.view(Some(2));
        assert_eq!(
            at_2.rows(0, 10),
            vec![
                ("a".into(), json!({"balance": 5})),
                ("b".into(), json!({"balance": 10}))
            ]
        );
        assert_eq!(at_2.row("b"), Some((1, json!({"balance": 10}))));
        assert_eq!(at_2.changed_at("b"), Some(1));
        let at_3 = history.view(Some(3));
        assert_eq!(at_3.row("b"), Some((1, json!({"balance": 7}))));
        assert_eq!(at_3.changed_at("b"), Some(3));
        let at_4 = history.view(Some(4));
        assert_eq!(at_4.row_count(), 1, "a was removed at 4");
        assert_eq!(at_4.row("a"), None);
        assert_eq!(at_4.row("b"), Some((0, json!({"balance": 7}))));
        assert_eq!(at_4.to_json(), json!({"b": {"balance": 7}}));

        let event = |position| RecordedEvent {
            global_position: position,
            stream_id: "s".into(),
            stream_type: "T".into(),
            stream_version: 1,
            event_id: uuid::Uuid::nil(),
            event_type: "E".into(),
            schema_version: None,
            recorded_at: chrono::DateTime::UNIX_EPOCH,
            data: json!({}).into(),
            metadata: json!({}).into(),
        };
        assert_eq!(history.keys_for(&event(4)), vec!["a".to_owned()]);
        assert!(history.keys_for(&event(5)).is_empty());
    }
}
