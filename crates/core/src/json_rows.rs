//! A read model whose rows come from elsewhere (a plug-in answers which rows each event
//! changed), kept here with every version of every row so a debugger can show it at any
//! position without asking again: rows in key order, paged, each with the event that last
//! changed it, and rows that an event removed.
//!
//! Rows are kept as the JSON text they were answered in and parsed only when shown: a build
//! stores a version per event, a debugger shows a page of them.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use rustc_hash::FxBuildHasher;
use serde_json::{Map, Value};
use smol_str::SmolStr;

use crate::domain::{ApplyError, ProjectionState, ProjectionView};
use crate::event::RecordedEvent;

/// One row's versions: `(global position, the row's JSON text then, or None once removed)`,
/// in position order.
type Versions = Vec<(u64, Option<Arc<str>>)>;

#[derive(Clone, Debug, Default)]
struct Rows {
    /// Row numbers by key.
    ids: HashMap<SmolStr, u32, FxBuildHasher>,
    /// Each row's key and versions, by row number: rows are numbered in the order of their
    /// first change, so their first positions never go down as the numbers go up.
    all: Vec<(SmolStr, Versions)>,
    /// `(position, row)` for every change, in position order: what an event changed.
    changes: Vec<(u64, u32)>,
    /// Whether any row was ever removed: until one is, the rows at a position are the first
    /// `n` by number.
    removals: bool,
    /// Row numbers in key order, sorted on the first read after rows were added.
    order: OnceLock<Vec<u32>>,
}

impl Rows {
    /// The row's version at or before `position` (`None`: before any event).
    fn version(&self, row: u32, position: Option<u64>) -> Option<&(u64, Option<Arc<str>>)> {
        let position = position?;
        let versions = &self.all.get(row as usize)?.1;
        let after = versions.partition_point(|(p, _)| *p <= position);
        versions.get(after.checked_sub(1)?)
    }

    /// The row as it was after every event at or before `position`.
    fn at(&self, row: u32, position: Option<u64>) -> Option<&Arc<str>> {
        self.version(row, position)?.1.as_ref()
    }

    /// The position of the last change to `row` at or before `position`.
    fn changed_at(&self, row: u32, position: Option<u64>) -> Option<u64> {
        Some(self.version(row, position)?.0)
    }

    fn order(&self) -> &[u32] {
        self.order.get_or_init(|| {
            let mut order: Vec<u32> = (0..self.all.len() as u32).collect();
            order.sort_unstable_by(|&a, &b| self.all[a as usize].0.cmp(&self.all[b as usize].0));
            order
        })
    }
}

/// A row's JSON text as a tree; text that is not JSON (never answered by a plug-in, whose
/// lines are JSON) is shown as the string it is.
fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
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

    /// Sets a row the event at `position` changed (`None`: removed). Positions never go
    /// backwards; changes at one position are one event's.
    pub fn set(&mut self, position: u64, key: &str, row: Option<Value>) {
        self.set_text(position, key, row.map(|row| Arc::from(row.to_string())));
    }

    /// [`JsonRowHistory::set`] with the row as JSON text.
    pub fn set_text(&mut self, position: u64, key: &str, row: Option<Arc<str>>) {
        let rows = Arc::make_mut(&mut self.rows);
        let id = if let Some(&id) = rows.ids.get(key) {
            id
        } else {
            let id = rows.all.len() as u32;
            rows.ids.insert(SmolStr::from(key), id);
            rows.all.push((SmolStr::from(key), Vec::new()));
            rows.order = OnceLock::new();
            id
        };
        rows.removals |= row.is_none();
        let versions = &mut rows.all[id as usize].1;
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
        let present = if rows.removals {
            Present::Listed(
                rows.order()
                    .iter()
                    .copied()
                    .filter(|&row| rows.at(row, position).is_some())
                    .collect(),
            )
        } else {
            let first_n = position.map_or(0, |position| {
                rows.all
                    .partition_point(|(_, versions)| versions.first().is_some_and(|(p, _)| *p <= position))
            });
            Present::FirstN(first_n as u32)
        };
        JsonRowsAt {
            name: self.name.clone(),
            rows: Arc::clone(&self.rows),
            position,
            present,
        }
    }
}

/// Which rows exist at a view's position.
enum Present {
    /// Rows `0..n` by number (no row was ever removed).
    FirstN(u32),
    /// These rows, in key order.
    Listed(Vec<u32>),
}

/// A [`JsonRowHistory`] at one position: the rows there, in key order.
pub struct JsonRowsAt {
    name: String,
    rows: Arc<Rows>,
    position: Option<u64>,
    present: Present,
}

impl JsonRowsAt {
    /// The rows that exist here, in key order.
    fn shown(&self) -> Box<dyn Iterator<Item = u32> + '_> {
        match &self.present {
            Present::FirstN(n) => {
                let n = *n;
                Box::new(self.rows.order().iter().copied().filter(move |&row| row < n))
            }
            Present::Listed(rows) => Box::new(rows.iter().copied()),
        }
    }
}

impl ProjectionView for JsonRowsAt {
    fn name(&self) -> &str {
        &self.name
    }

    fn to_json(&self) -> Value {
        let mut map = Map::new();
        for (key, row) in self.rows(0, self.row_count()) {
            map.insert(key, row);
        }
        Value::Object(map)
    }

    fn row_count(&self) -> usize {
        match &self.present {
            Present::FirstN(n) => *n as usize,
            Present::Listed(rows) => rows.len(),
        }
    }

    fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)> {
        self.shown()
            .skip(start)
            .take(count)
            .filter_map(|row| {
                let text = self.rows.at(row, self.position)?;
                Some((self.rows.all[row as usize].0.to_string(), parse(text)))
            })
            .collect()
    }

    fn row(&self, key: &str) -> Option<(usize, Value)> {
        let &row = self.rows.ids.get(key)?;
        let text = self.rows.at(row, self.position)?;
        let index = self.shown().position(|r| r == row)?;
        Some((index, parse(text)))
    }

    fn changed_at(&self, key: &str) -> Option<u64> {
        let &row = self.rows.ids.get(key)?;
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
        let &row = self.rows.ids.get(key)?;
        self.rows.changed_at(row, Some(u64::MAX))
    }
}

impl ProjectionState for JsonRowHistory {
    /// Its rows come from [`ProjectionState::apply_row`], not from folding events here.
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
            .map(|&(_, row)| self.rows.all[row as usize].0.to_string())
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

    fn apply_row(&mut self, position: u64, key: &str, row: Option<Arc<str>>) {
        self.set_text(position, key, row);
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
            recorded_at: None,
            data: json!({}).into(),
            metadata: json!({}).into(),
        };
        assert_eq!(history.keys_for(&event(4)), vec!["a".to_owned()]);
        assert!(history.keys_for(&event(5)).is_empty());
    }

    /// Without removals the rows at a position are those added by then, in key order, and
    /// paging, finding a row's index and blaming its last change agree with that.
    #[test]
    fn rows_never_removed_are_read_at_any_position_in_key_order() {
        let mut history = JsonRowHistory::new("balances");
        history.set(1, "c", Some(json!(1)));
        history.set(2, "a", Some(json!(2)));
        history.set(3, "b", Some(json!(3)));
        history.set(4, "c", Some(json!(4)));
        history.set_text(5, "d", Some(Arc::from("[5]")));

        assert_eq!(history.view(None).row_count(), 0);
        let at_2 = history.view(Some(2));
        assert_eq!(at_2.row_count(), 2);
        assert_eq!(at_2.rows(0, 10), vec![("a".into(), json!(2)), ("c".into(), json!(1))]);
        assert_eq!(at_2.row("b"), None, "b is added at 3");
        assert_eq!(at_2.row("c"), Some((1, json!(1))));
        let at_4 = history.view(Some(4));
        assert_eq!(at_4.rows(1, 2), vec![("b".into(), json!(3)), ("c".into(), json!(4))]);
        assert_eq!(at_4.row("c"), Some((2, json!(4))));
        assert_eq!(at_4.changed_at("c"), Some(4));
        assert_eq!(
            history.view(Some(5)).to_json(),
            json!({"a": 2, "b": 3, "c": 4, "d": [5]})
        );
    }
}
