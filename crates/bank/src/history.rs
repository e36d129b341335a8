//! A read model's rows by key, with their history.
//!
//! A debugger asks a read model "what were you after the event at position p" for any p, and
//! shows a window of its rows in key order: rows `120_000..120_030`, or the row an event
//! changed and its index. Folding events forward from a copy of the whole model taken every so
//! often (a checkpoint) makes that cost thousands of events per question, and every copy holds
//! the parts of the model that changed since the one before.
//!
//! So, when asked to ([`RowHistory::keep_history`]), the rows keep every version they had,
//! each stamped with the global position of the event that made it: the row at `p` is its last
//! version at or before `p`, found by a binary search (a row that changes often keeps most
//! versions as changes from the one before: see [`crate::versions`]). Rows are numbered in the
//! order they were added, and none is ever removed, so the rows that existed at `p` are the
//! first `n` numbers. Their order by key comes from a wavelet matrix over each row's rank among
//! all keys, in row-number order: the `k`-th smallest of its first `n` values is the rank of the
//! `k`-th row in key order at `p`. It is built once, on the first read after rows were added.

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::sync::{Arc, OnceLock};

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
use serde_json::Value;
use smol_str::SmolStr;
use vers_vecs::{BitVec, WaveletMatrix};

use crate::versions::{Change, Versions};

/// Every row, with its versions when history is kept. Copies share it; the first change to a
/// shared copy copies it whole, so a debugger reads views of a history that no longer changes.
#[derive(Debug)]
pub(crate) struct RowHistory<V> {
    rows: Arc<Rows<V>>,
    /// Which row each stream number found, for the fold that numbers streams; not shared with
    /// copies (a checkpoint's copy is not folded further).
    hints: StreamHints,
}

impl<V> Clone for RowHistory<V> {
    fn clone(&self) -> Self {
        Self {
            rows: Arc::clone(&self.rows),
            hints: StreamHints::default(),
        }
    }
}

/// The row each stream number last found, from folds that number their streams
/// ([`rewind_core::Projection::apply_in_stream`]): a hint, checked against the row's key, that
/// saves a search of the rows' hash table (two cache misses at millions of rows). Row numbers
/// never change, so a hint stays right for copies of the rows too.
#[derive(Debug, Default)]
struct StreamHints {
    /// Row number by stream number; [`NO_ROW`] for a stream that found none yet.
    rows: Vec<u32>,
}

/// No row found for a stream number yet.
const NO_ROW: u32 = u32::MAX;

impl StreamHints {
    /// The row `stream` last found, if any.
    fn get(&self, stream: Option<u32>) -> Option<u32> {
        let row = *self.rows.get(stream? as usize)?;
        (row != NO_ROW).then_some(row)
    }

    /// Remembers that `stream` found row `id`. Streams are numbered densely from 0, so the
    /// table grows a few entries at a time; a number far past its end is not remembered, rather
    /// than growing the table to it.
    fn remember(&mut self, stream: Option<u32>, id: u32) {
        let Some(stream) = stream.map(|s| s as usize) else {
            return;
        };
        if stream >= self.rows.len() {
            if stream >= self.rows.len().max(1024) * 2 {
                return;
            }
            self.rows.resize(stream + 1, NO_ROW);
        }
        self.rows[stream] = id;
    }
}

impl<V> Default for RowHistory<V> {
    fn default() -> Self {
        Self {
            rows: Arc::new(Rows {
                keep: false,
                ids: HashTable::new(),
                all: Vec::new(),
                latest: 0,
                order: OnceLock::new(),
            }),
            hints: StreamHints::default(),
        }
    }
}

#[derive(Debug)]
struct Rows<V> {
    /// Keep every version (otherwise only the latest).
    keep: bool,
    /// Row numbers, found by their key's hash (the key itself is in `all`, held once).
    ids: HashTable<u32>,
    /// Each row by row number: its key beside its versions, so the row a search finds is
    /// checked and changed in one place.
    all: Vec<Row<V>>,
    /// The last position a change was stamped with (stamps never go backwards).
    latest: u64,
    /// The rows' order by key, made on first read and dropped when a row is added.
    order: OnceLock<Order>,
}

impl<V: Clone> Clone for Rows<V> {
    fn clone(&self) -> Self {
        Self {
            keep: self.keep,
            ids: self.ids.clone(),
            all: self.all.clone(),
            latest: self.latest,
            order: OnceLock::new(),
        }
    }
}

/// One row: its key (inline up to 23 bytes, without a pointer to follow) and its versions,
/// `(position of the event that made it, row)`, ascending.
#[derive(Clone, Debug)]
struct Row<V> {
    key: SmolStr,
    versions: Versions<V>,
}

#[derive(Debug)]
struct Order {
    /// Row numbers in key order.
    sorted: Vec<u32>,
    /// Each row's index in `sorted`, by row number.
    rank: Vec<u32>,
    /// `rank` as a wavelet matrix (none while there are no rows).
    ranks: Option<WaveletMatrix>,
}

/// A row number and its key's first 12 bytes, padded with zero bytes, as big-endian numbers
/// (16 bytes in all): prefixes compare as their keys do, except that keys equal in their first
/// 12 bytes (padding included) compare equal, and those must be compared whole.
struct KeyPrefix {
    high: u64,
    low: u32,
    row: u32,
}

impl KeyPrefix {
    fn of(key: &str, row: u32) -> Self {
        let mut bytes = [0u8; 16];
        let head = &key.as_bytes()[..key.len().min(12)];
        bytes[..head.len()].copy_from_slice(head);
        let number = u128::from_be_bytes(bytes);
        Self {
            high: (number >> 64) as u64,
            low: (number >> 32) as u32,
            row,
        }
    }
}

impl Order {
    fn new<V>(rows: &[Row<V>]) -> Self {
        // Sorted by the keys' first 12 bytes, held beside the row numbers, and by the whole
        // keys only where those are equal: most comparisons read no row. The sort is stable
        // for its merging of runs: keys made in order (ids numbered as they are made) are
        // sorted in a few runs already.
        let mut keyed: Vec<KeyPrefix> = (0..rows.len() as u32)
            .map(|row| KeyPrefix::of(&rows[row as usize].key, row))
            .collect();
        keyed.sort_by(|a, b| {
            (a.high, a.low)
                .cmp(&(b.high, b.low))
                .then_with(|| rows[a.row as usize].key.cmp(&rows[b.row as usize].key))
        });
        let sorted: Vec<u32> = keyed.iter().map(|k| k.row).collect();
        drop(keyed);
        let mut rank = vec![0u32; rows.len()];
        for (index, &row) in sorted.iter().enumerate() {
            rank[row as usize] = index as u32;
        }
        let ranks = (!rank.is_empty()).then(|| {
            let bits = (u64::BITS - (rank.len() as u64).leading_zeros()).max(1) as u16;
            // Packed at `bits` bits each (about a third of a `u64` each at 10M rows): the
            // matrix is built when indexing ends, at the process's peak memory.
            let mut values = BitVec::with_capacity(rank.len() * usize::from(bits));
            for &r in &rank {
                values.append_bits(u64::from(r), usize::from(bits));
            }
            WaveletMatrix::from_bit_vec(&values, bits)
        });
        Self { sorted, rank, ranks }
    }
}

impl<V: Change> RowHistory<V> {
    /// Keeps every version of every row from now on.
    pub(crate) fn keep_history(&mut self) {
        Arc::make_mut(&mut self.rows).keep = true;
    }

    /// Adds the row with `key`, or replaces it, as the event at `position` did.
    pub(crate) fn insert(&mut self, position: u64, key: &str, row: V) {
        self.insert_in(None, position, key, row);
    }

    /// [`RowHistory::insert`] by an event of stream number `stream` (see [`StreamHints`]).
    pub(crate) fn insert_in(&mut self, stream: Option<u32>, position: u64, key: &str, row: V) {
        let found = self.id_in(stream, key);
        let rows = Arc::make_mut(&mut self.rows);
        let position = rows.stamp(position);
        if let Some(id) = found {
            rows.record(id, position, row);
            return;
        }
        let id = rows.all.len() as u32;
        let Rows { ids, all, .. } = rows;
        ids.insert_unique(hash(key), id, |&id| hash(&all[id as usize].key));
        all.push(Row {
            key: SmolStr::new(key),
            versions: Versions::new(position, row),
        });
        rows.order.take();
        self.hints.remember(stream, id);
    }

    /// Changes the row with `key` as the event at `position` did; `false` if there is none.
    pub(crate) fn update(&mut self, position: u64, key: &str, change: impl FnOnce(&mut V)) -> bool {
        self.update_in(None, position, key, change)
    }

    /// [`RowHistory::update`] by an event of stream number `stream` (see [`StreamHints`]).
    pub(crate) fn update_in(
        &mut self,
        stream: Option<u32>,
        position: u64,
        key: &str,
        change: impl FnOnce(&mut V),
    ) -> bool {
        let Some(id) = self.id_in(stream, key) else {
            return false;
        };
        let rows = Arc::make_mut(&mut self.rows);
        let position = rows.stamp(position);
        let Some(mut row) = rows.all[id as usize].versions.latest().map(|(_, row)| row.clone()) else {
            return false;
        };
        change(&mut row);
        rows.record(id, position, row);
        true
    }

    /// Gives back the capacity the rows' version lists grew beyond their length, and the
    /// stream hints (no more events are coming).
    pub(crate) fn shrink_to_fit(&mut self) {
        let rows = Arc::make_mut(&mut self.rows);
        for row in &mut rows.all {
            row.versions.shrink_to_fit();
        }
        rows.all.shrink_to_fit();
        self.hints = StreamHints::default();
    }

    /// The row with `key`, found from the hint for `stream` when it names that row (and then
    /// remembered for it).
    fn id_in(&mut self, stream: Option<u32>, key: &str) -> Option<u32> {
        let hinted = self
            .hints
            .get(stream)
            .filter(|&id| self.rows.all.get(id as usize).is_some_and(|row| row.key == key));
        if hinted.is_some() {
            return hinted;
        }
        let id = self.rows.id(key)?;
        self.hints.remember(stream, id);
        Some(id)
    }

    /// Reads, without remembering anything, the rows `(stream number, key)` will change, as
    /// [`RowHistory::update_in`] finds them, so the fold finds them loaded (see
    /// [`rewind_core::Projection::warm`]). Each link of the chain is taken for all of them
    /// before the next (see [`rewind_core::Projection::warm_all`]): the
    /// hints, then the rows they name (searched for by key where there is none), then the
    /// rows' latest versions and where the next one is written, each handed to `touch`.
    pub(crate) fn warm_all<'k>(&self, keys: impl Iterator<Item = (u32, &'k str)>, touch: impl Fn(&V)) {
        const LINKS: usize = 16;
        let mut keys = keys.peekable();
        while keys.peek().is_some() {
            let mut found: [(Option<u32>, &str); LINKS] = [(None, ""); LINKS];
            let mut n = 0;
            for (slot, (stream, key)) in found.iter_mut().zip(keys.by_ref()) {
                *slot = (self.hints.get(Some(stream)), key);
                n += 1;
            }
            for (id, key) in &mut found[..n] {
                *id = id
                    .filter(|&id| self.rows.all.get(id as usize).is_some_and(|row| row.key == *key))
                    .or_else(|| self.rows.id(key));
            }
            for &(id, _) in &found[..n] {
                if let Some((_, row)) = id.and_then(|id| self.rows.all[id as usize].versions.warm()) {
                    touch(row);
                }
            }
        }
    }

    /// The latest version of the row with `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        let id = self.rows.id(key)?;
        self.rows.all[id as usize].versions.latest().map(|(_, row)| row)
    }

    /// The rows now.
    pub(crate) fn latest(&self) -> RowsAt<V> {
        self.view(Some(u64::MAX))
    }

    /// The rows after every event at or before `position` (`None`: before any), if history is
    /// kept.
    pub(crate) fn at(&self, position: Option<u64>) -> Option<RowsAt<V>> {
        self.rows.keep.then(|| self.view(position))
    }

    fn view(&self, position: Option<u64>) -> RowsAt<V> {
        // Rows are added in order of position, so the rows that existed then come first: the
        // position of each row's first version (when it was added) is ascending.
        let rows = &self.rows.all;
        let (mut len, mut end) = (0, rows.len());
        while len < end {
            let mid = len + (end - len) / 2;
            if Some(rows[mid].versions.first_position()) <= position {
                len = mid + 1;
            } else {
                end = mid;
            }
        }
        // Made here, so a view's first read does not pay for it.
        self.rows.order();
        RowsAt {
            rows: Arc::clone(&self.rows),
            position,
            len,
        }
    }
}

/// A key's hash in the row-number table.
fn hash(key: &str) -> u64 {
    FxBuildHasher.hash_one(key)
}

impl<V> Rows<V> {
    fn id(&self, key: &str) -> Option<u32> {
        self.ids
            .find(hash(key), |&id| self.all[id as usize].key == key)
            .copied()
    }

    fn stamp(&mut self, position: u64) -> u64 {
        self.latest = self.latest.max(position);
        self.latest
    }

    fn record(&mut self, id: u32, position: u64, row: V)
    where
        V: Change,
    {
        self.all[id as usize].versions.record(position, row, self.keep);
    }

    fn order(&self) -> &Order {
        self.order.get_or_init(|| Order::new(&self.all))
    }
}

/// The rows as they were at one position: a cheap handle on the shared history.
pub(crate) struct RowsAt<V> {
    rows: Arc<Rows<V>>,
    position: Option<u64>,
    /// Rows that existed then: row numbers `0..len`.
    len: usize,
}

impl<V: Change> RowsAt<V> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The version of row `id` at this position.
    fn version(&self, id: u32) -> Option<Cow<'_, V>> {
        let (_, row) = self.rows.all.get(id as usize)?.versions.at(self.position)?;
        Some(row)
    }

    /// The row number of the `k`-th row in key order.
    fn nth(&self, k: usize) -> Option<u32> {
        if k >= self.len {
            return None;
        }
        let order = self.rows.order();
        if self.len == order.sorted.len() {
            return order.sorted.get(k).copied();
        }
        let rank = order.ranks.as_ref()?.quantile_u64(0..self.len, k)?;
        order.sorted.get(rank as usize).copied()
    }

    /// The index in key order of row `id` (which exists at this position).
    fn index_of(&self, id: u32) -> Option<usize> {
        let order = self.rows.order();
        let rank = *order.rank.get(id as usize)?;
        if self.len == order.sorted.len() {
            return Some(rank as usize);
        }
        // The number of rows before it: the first k whose rank is not below its own.
        let ranks = order.ranks.as_ref()?;
        let (mut low, mut high) = (0, self.len);
        while low < high {
            let mid = low + (high - low) / 2;
            if ranks.quantile_u64(0..self.len, mid)? < u64::from(rank) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        Some(low)
    }

    fn key(&self, id: u32) -> &str {
        self.rows.all[id as usize].key.as_str()
    }

    #[cfg(test)]
    pub(crate) fn get(&self, key: &str) -> Option<Cow<'_, V>> {
        let id = self.rows.id(key)?;
        if id as usize >= self.len {
            return None;
        }
        self.version(id)
    }

    /// Rows in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, Cow<'_, V>)> {
        let order = self.rows.order();
        order
            .sorted
            .iter()
            .filter(|&&id| (id as usize) < self.len)
            .filter_map(|&id| Some((self.key(id), self.version(id)?)))
    }

    /// Rows `start..start + count` in key order, each as `json` writes it.
    pub(crate) fn rows(&self, start: usize, count: usize, json: impl Fn(&str, &V) -> Value) -> Vec<(String, Value)> {
        (start..start.saturating_add(count).min(self.len))
            .filter_map(|k| {
                let id = self.nth(k)?;
                let key = self.key(id);
                Some((key.to_owned(), json(key, &*self.version(id)?)))
            })
            .collect()
    }

    /// The position of the event that made the row's version at this position.
    pub(crate) fn changed_at(&self, key: &str) -> Option<u64> {
        let id = self.rows.id(key)?;
        if id as usize >= self.len || !self.rows.keep {
            return None;
        }
        let (made, _) = self.rows.all.get(id as usize)?.versions.at(self.position)?;
        Some(made)
    }

    /// The row with `key` and its index in key order.
    pub(crate) fn row(&self, key: &str, json: impl Fn(&str, &V) -> Value) -> Option<(usize, Value)> {
        let id = self.rows.id(key)?;
        if id as usize >= self.len {
            return None;
        }
        Some((self.index_of(id)?, json(key, &*self.version(id)?)))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::RowHistory;

    #[allow(clippy::trivially_copy_pass_by_ref, reason = "the shape `RowsAt::rows` takes")]
    fn plain(_key: &str, row: &u32) -> Value {
        json!(row)
    }

    /// Warming hands over the latest version of each row named, found by a right hint, a
    /// wrong one or none, in the order asked, more than one chain's worth at a time, and
    /// nothing for a key with no row; it changes nothing.
    #[test]
    fn warming_reads_the_latest_version_of_each_row_named() {
        let mut rows = RowHistory::default();
        rows.keep_history();
        for n in 0..40u32 {
            // Stream `n` found row `n`; rows 0..20 change often enough to be packed.
            rows.insert_in(Some(n), u64::from(n) + 1, &format!("k{n}"), n);
        }
        for position in 41..441u64 {
            let n = (position % 20) as u32;
            assert!(rows.update_in(Some(n), position, &format!("k{n}"), |row| *row += 100));
        }
        let before = rows.latest().rows(0, 100, plain);
        let keys: Vec<(u32, String)> = (0..40u32)
            .map(|n| (n, format!("k{n}")))
            // Stream 3 names row 7 (a wrong hint), stream 99 has none, and one key has no row.
            .chain([(3, "k7".to_owned()), (99, "k5".to_owned()), (1, "none".to_owned())])
            .collect();
        let seen = std::cell::RefCell::new(Vec::new());
        rows.warm_all(keys.iter().map(|(s, k)| (*s, k.as_str())), |row| {
            seen.borrow_mut().push(*row);
        });
        let expected: Vec<u32> = keys.iter().filter_map(|(_, key)| rows.get(key).copied()).collect();
        assert_eq!(expected.len(), 42);
        assert_eq!(seen.into_inner(), expected);
        assert_eq!(rows.latest().rows(0, 100, plain), before);
    }

    #[test]
    fn a_history_answers_for_earlier_positions_and_one_without_only_now() {
        let mut rows = RowHistory::default();
        rows.insert(1, "b", 1);
        let mut kept = rows.clone();
        kept.keep_history();
        assert!(rows.at(Some(1)).is_none(), "no history asked for");
        kept.insert(2, "a", 2);
        assert!(kept.update(3, "b", |row| *row += 10));
        assert!(!kept.update(3, "c", |row| *row += 10));
        let at_two = kept.at(Some(2)).unwrap();
        assert_eq!(
            at_two.rows(0, 10, plain),
            vec![("a".into(), json!(2)), ("b".into(), json!(1))]
        );
        assert_eq!(at_two.row("b", plain), Some((1, json!(1))));
        assert_eq!(kept.latest().row("b", plain), Some((1, json!(11))));
        // The event that last changed a row, as of each position.
        assert_eq!((at_two.changed_at("a"), at_two.changed_at("b")), (Some(2), Some(1)));
        assert_eq!(kept.latest().changed_at("b"), Some(3));
        assert_eq!(kept.at(Some(1)).unwrap().changed_at("a"), None, "not there yet");
        assert_eq!(rows.latest().changed_at("b"), None, "no history kept");
        assert_eq!(kept.at(None).unwrap().len(), 0);
        // The copy taken before kept its own rows.
        assert_eq!(rows.latest().rows(0, 10, plain), vec![("b".into(), json!(1))]);
    }

    /// A stream number finds the row it found before; a number far past the others is not
    /// remembered (its row is still added), rather than growing the table to it.
    #[test]
    fn stream_numbers_remember_their_rows_within_reason() {
        let mut rows = RowHistory::default();
        rows.insert_in(Some(5), 1, "a", 1);
        rows.insert_in(Some(6), 2, "b", 2);
        assert_eq!((rows.hints.get(Some(5)), rows.hints.get(Some(6))), (Some(0), Some(1)));
        assert!(rows.update_in(Some(6), 3, "b", |row| *row += 10));
        assert_eq!(rows.get("b"), Some(&12));
        // Number 5 names "a": asked for "b", it finds "b" by key and learns that.
        assert!(rows.update_in(Some(5), 4, "b", |row| *row += 10));
        assert_eq!((rows.hints.get(Some(5)), rows.get("b")), (Some(1), Some(&22)));
        rows.insert_in(Some(u32::MAX), 5, "c", 3);
        assert_eq!((rows.get("c"), rows.hints.get(Some(u32::MAX))), (Some(&3), None));
        assert!(rows.hints.rows.len() < 8);
        // A copy starts without them.
        assert_eq!(rows.clone().hints.get(Some(5)), None);
    }

    proptest! {
        /// At every position, the rows are what a plain sorted map holds after the changes up
        /// to it: the same rows, values, order and indexes, and the position each row last
        /// changed at. With few keys, rows get enough versions to be packed. Changes come with
        /// stream numbers or not, and a number may name another key's row than before: a
        /// hint never changes what the rows hold.
        #[test]
        fn rows_at_any_position_are_the_changes_up_to_it(
            changes in prop::collection::vec(
                (0u32..60, 0u32..4, any::<bool>(), prop::option::of(0u32..8)),
                0..300,
            ),
            few_keys in any::<bool>(),
            start in 0usize..70,
            count in 0usize..30,
            copy_at in 0usize..300,
        ) {
            let mut rows = RowHistory::default();
            rows.keep_history();
            // A copy taken part way (as a checkpoint is) and changed alike from there on: it
            // shares the rows until its first change, and starts without the hints.
            let mut copy = None;
            // Each key's value and the position of its last change.
            let mut model: BTreeMap<String, (u32, u64)> = BTreeMap::new();
            let mut models = vec![(None, model.clone())];
            // Several changes may share a position (one event changing a row twice).
            let mut position = 0;
            for (i, (key, step, update, stream)) in changes.iter().enumerate() {
                if i == copy_at {
                    copy = Some(rows.clone());
                }
                position += u64::from(*step != 0);
                let key = format!("k{}", if few_keys { key % 3 } else { *key });
                if *update {
                    let changed = rows.update_in(*stream, position, &key, |row| *row += 1000);
                    prop_assert_eq!(changed, model.contains_key(&key));
                    if let Some(copy) = &mut copy {
                        prop_assert_eq!(copy.update_in(*stream, position, &key, |row| *row += 1000), changed);
                    }
                    if let Some(row) = model.get_mut(&key) {
                        *row = (row.0 + 1000, position);
                    }
                } else {
                    rows.insert_in(*stream, position, &key, i as u32);
                    if let Some(copy) = &mut copy {
                        copy.insert_in(*stream, position, &key, i as u32);
                    }
                    model.insert(key, (i as u32, position));
                }
                match models.last_mut() {
                    Some((Some(at), last)) if *at == position => *last = model.clone(),
                    _ => models.push((Some(position), model.clone())),
                }
            }
            rows.shrink_to_fit();
            if let Some(copy) = copy {
                prop_assert_eq!(
                    copy.latest().rows(0, usize::MAX, plain),
                    rows.latest().rows(0, usize::MAX, plain)
                );
            }
            for (position, model) in models {
                let view = rows.at(position).unwrap();
                let sorted: Vec<(String, Value)> = model.iter().map(|(k, v)| (k.clone(), json!(v.0))).collect();
                prop_assert_eq!(view.len(), sorted.len());
                prop_assert_eq!(view.rows(0, usize::MAX, plain), sorted.clone());
                let window: Vec<_> = sorted.iter().skip(start).take(count).cloned().collect();
                prop_assert_eq!(view.rows(start, count, plain), window);
                for (index, (key, value)) in sorted.iter().enumerate() {
                    prop_assert_eq!(view.row(key, plain), Some((index, value.clone())));
                    prop_assert_eq!(view.get(key).map(|v| json!(v)), Some(value.clone()));
                    prop_assert_eq!(view.changed_at(key), Some(model[key].1));
                }
                prop_assert_eq!(view.row("absent", plain), None);
                prop_assert_eq!(view.iter().count(), sorted.len());
            }
        }

        /// Rows come in key order whatever the keys' first 12 bytes hold: keys that share
        /// them (long keys, and keys that differ by zero bytes at their end) are ordered by
        /// the rest.
        #[test]
        fn rows_are_in_key_order_whatever_their_first_bytes(
            keys in prop::collection::btree_set("(account-0000000)?[ab\\x00]{0,20}", 0..60),
            shuffle in any::<u64>(),
        ) {
            let mut shuffled: Vec<&String> = keys.iter().collect();
            shuffled.sort_by_key(|key| {
                key.bytes().fold(shuffle, |h, b| h.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            });
            let mut rows = RowHistory::default();
            for (position, key) in shuffled.iter().enumerate() {
                rows.insert(position as u64 + 1, key, position as u32);
            }
            let view = rows.latest();
            let listed: Vec<String> = view.rows(0, usize::MAX, plain).into_iter().map(|(key, _)| key).collect();
            prop_assert_eq!(listed, keys.iter().cloned().collect::<Vec<_>>());
        }
    }
}
