//! One row's versions, kept compact once there are many.
//!
//! A read model's history holds every version of every row: 15 million of them in the 10M
//! sample. Most rows have a few versions (an order about 2.4), kept as they are. A row that
//! changes often (an account with its deposits, a day with its totals) keeps one version whole
//! in every [`RUN`] + 1, and each one between as the change from the one before: the distance
//! between their positions and what changed, a few bytes (see [`Change`]). A version between
//! two whole ones is found by reading at most [`RUN`] changes forward.

use std::borrow::Cow;

/// Rows with fewer versions than this grow their list one version at a time: a few versions
/// fit exactly, where doubling from 1 to 4 would leave about a third of the history unused.
const SMALL_ROW: usize = 8;

/// A row with this many versions is packed.
const PACK_AT: usize = 16;

/// Versions kept as changes after each whole one.
pub(crate) const RUN: u32 = 15;

/// A row version that can be written as the change from the version before it.
pub(crate) trait Change: Clone {
    /// Appends to `out` what turns `from` into `to`; `false` if it cannot say (the version is
    /// then kept whole, and whatever was appended is dropped).
    fn write_change(from: &Self, to: &Self, out: &mut Vec<u8>) -> bool;
    /// Applies to `value` the change `write_change` wrote at the front of `input`, and moves
    /// `input` past it; `None` if the bytes are not such a change.
    fn read_change(value: &mut Self, input: &mut &[u8]) -> Option<()>;
}

/// The versions of one row: `(position of the event that made it, value)`, ascending.
#[derive(Clone, Debug)]
pub(crate) enum Versions<V> {
    Few(Vec<(u64, V)>),
    Many(Box<Packed<V>>),
}

#[derive(Clone, Debug)]
pub(crate) struct Packed<V> {
    /// Versions kept whole, each with where the changes after it start in `changes`.
    whole: Vec<Whole<V>>,
    /// After each whole version, up to [`RUN`] versions, each as the distance of its position
    /// from the version before (a varint) and then its [`Change`].
    changes: Vec<u8>,
    /// Changes written since the last whole version.
    run: u32,
    /// The last version written (the one the next change is from).
    written: (u64, V),
    /// The latest version, not written yet: an event may change the row again.
    latest: (u64, V),
}

#[derive(Clone, Debug)]
struct Whole<V> {
    position: u64,
    offset: usize,
    value: V,
}

impl<V: Change> Versions<V> {
    pub(crate) fn new(position: u64, value: V) -> Self {
        Self::Few(vec![(position, value)])
    }

    /// The latest version.
    pub(crate) fn latest(&self) -> Option<&(u64, V)> {
        match self {
            Self::Few(versions) => versions.last(),
            Self::Many(packed) => Some(&packed.latest),
        }
    }

    /// The latest version, reading on the way (and changing nothing of) what recording the
    /// next version will change: the end of the list it is added to.
    pub(crate) fn warm(&self) -> Option<&(u64, V)> {
        match self {
            Self::Few(versions) => versions.last(),
            Self::Many(packed) => {
                std::hint::black_box((packed.run, packed.written.0, packed.changes.last()));
                Some(&packed.latest)
            }
        }
    }

    /// The position of the first version (when the row was added), with history kept; without,
    /// the latest's.
    pub(crate) fn first_position(&self) -> u64 {
        match self {
            Self::Few(versions) => versions.first().map_or(0, |(made, _)| *made),
            Self::Many(packed) => packed.whole.first().map_or(packed.latest.0, |w| w.position),
        }
    }

    /// Adds the version the event at `position` made (`position` is not below the latest's).
    /// One event makes one version: a second change at the same position replaces the first.
    /// Without `history`, only the latest version is kept.
    pub(crate) fn record(&mut self, position: u64, value: V, history: bool) {
        match self {
            Self::Few(versions) => {
                match versions.last_mut() {
                    Some(last) if !history || last.0 == position => *last = (position, value),
                    _ => {
                        if versions.len() < SMALL_ROW {
                            versions.reserve_exact(1);
                        }
                        versions.push((position, value));
                    }
                }
                if versions.len() >= PACK_AT {
                    *self = Self::Many(Box::new(Packed::from(std::mem::take(versions))));
                }
            }
            Self::Many(packed) => packed.record(position, value),
        }
    }

    /// The version at `position` (the last one made at or before it), with the position of the
    /// event that made it.
    pub(crate) fn at(&self, position: Option<u64>) -> Option<(u64, Cow<'_, V>)> {
        let position = position?;
        match self {
            Self::Few(versions) => {
                let after = versions.partition_point(|(made, _)| *made <= position);
                let (made, value) = versions[..after].last()?;
                Some((*made, Cow::Borrowed(value)))
            }
            Self::Many(packed) => packed.at(position),
        }
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        match self {
            Self::Few(versions) => versions.shrink_to_fit(),
            Self::Many(packed) => {
                packed.whole.shrink_to_fit();
                packed.changes.shrink_to_fit();
            }
        }
    }
}

impl<V: Change> Packed<V> {
    /// Packs `versions` (at least two: a single version is never packed).
    fn from(versions: Vec<(u64, V)>) -> Self {
        let mut versions = versions.into_iter();
        let (position, value) = versions.next().unwrap_or_else(|| unreachable!("a row has a version"));
        let mut packed = Self {
            whole: vec![Whole {
                position,
                offset: 0,
                value: value.clone(),
            }],
            changes: Vec::new(),
            run: 0,
            written: (position, value.clone()),
            latest: (position, value),
        };
        for (position, value) in versions {
            packed.record(position, value);
        }
        packed
    }

    fn record(&mut self, position: u64, value: V) {
        if self.latest.0 == position {
            self.latest.1 = value;
            return;
        }
        let (made, latest) = std::mem::replace(&mut self.latest, (position, value));
        // Only while packing the first version is both written and the latest.
        if made != self.written.0 {
            self.write(made, latest);
        }
    }

    /// Writes the version `value` made at `position`, after `self.written`.
    fn write(&mut self, position: u64, value: V) {
        if self.run < RUN {
            let mark = self.changes.len();
            write_varint(&mut self.changes, position - self.written.0);
            if V::write_change(&self.written.1, &value, &mut self.changes) {
                self.run += 1;
                self.written = (position, value);
                return;
            }
            self.changes.truncate(mark);
        }
        self.whole.push(Whole {
            position,
            offset: self.changes.len(),
            value: value.clone(),
        });
        self.run = 0;
        self.written = (position, value);
    }

    fn at(&self, position: u64) -> Option<(u64, Cow<'_, V>)> {
        if self.latest.0 <= position {
            return Some((self.latest.0, Cow::Borrowed(&self.latest.1)));
        }
        let after = self.whole.partition_point(|w| w.position <= position);
        let start = self.whole[..after].last()?;
        let end = self.whole.get(after).map_or(self.changes.len(), |next| next.offset);
        let mut input = &self.changes[start.offset..end];
        let mut made = start.position;
        let mut value = Cow::Borrowed(&start.value);
        while !input.is_empty() {
            let next = made + read_varint(&mut input)?;
            if next > position {
                break;
            }
            V::read_change(value.to_mut(), &mut input)?;
            made = next;
        }
        Some((made, value))
    }
}

/// Appends `n` as a LEB128 varint.
pub(crate) fn write_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a LEB128 varint from the front of `input`.
pub(crate) fn read_varint(input: &mut &[u8]) -> Option<u64> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input.split_first()?;
        *input = rest;
        n |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(n);
        }
    }
    None
}

/// Appends a signed number, small either side of zero in few bytes (zigzag, then varint).
pub(crate) fn write_signed(out: &mut Vec<u8>, n: i64) {
    write_varint(out, ((n << 1) ^ (n >> 63)) as u64);
}

pub(crate) fn read_signed(input: &mut &[u8]) -> Option<i64> {
    let n = read_varint(input)?;
    Some((n >> 1) as i64 ^ -((n & 1) as i64))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Multiples of 7 cannot be written as a change, so they are kept whole.
    impl Change for u32 {
        fn write_change(from: &Self, to: &Self, out: &mut Vec<u8>) -> bool {
            write_signed(out, i64::from(*to) - i64::from(*from));
            !to.is_multiple_of(7)
        }
        fn read_change(value: &mut Self, input: &mut &[u8]) -> Option<()> {
            *value = u32::try_from(i64::from(*value) + read_signed(input)?).ok()?;
            Some(())
        }
    }

    #[test]
    fn varints_read_back_what_was_written() {
        let numbers = [0, 1, -1, 63, -64, 64, 300, -300, i64::MAX, i64::MIN];
        let mut out = Vec::new();
        for n in numbers {
            write_signed(&mut out, n);
        }
        write_varint(&mut out, u64::MAX);
        let mut input = out.as_slice();
        for n in numbers {
            assert_eq!(read_signed(&mut input), Some(n));
        }
        assert_eq!(read_varint(&mut input), Some(u64::MAX));
        assert!(input.is_empty());
        assert_eq!(read_varint(&mut [0x80u8].as_slice()), None, "cut short");
    }

    proptest! {
        /// Packed or not, the version at every position is the last one recorded at or before
        /// it, with the position that made it.
        #[test]
        fn every_position_reads_the_last_version_recorded_at_or_before_it(
            changes in prop::collection::vec((0u64..4, 0u32..1000), 1..200),
        ) {
            let mut position = 1;
            let mut versions = Versions::new(position, 0u32);
            let mut model = vec![(position, 0u32)];
            for (step, value) in changes {
                position += step;
                versions.record(position, value, true);
                match model.last_mut() {
                    Some(last) if last.0 == position => last.1 = value,
                    _ => model.push((position, value)),
                }
                prop_assert_eq!(versions.latest(), model.last());
            }
            prop_assert_eq!(matches!(versions, Versions::Many(_)), model.len() >= PACK_AT);
            versions.shrink_to_fit();
            for at in 0..=position + 1 {
                let expected = model.iter().rev().find(|(made, _)| *made <= at).copied();
                let found = versions.at(Some(at)).map(|(made, value)| (made, *value));
                prop_assert_eq!(found, expected, "at {}", at);
            }
            prop_assert!(versions.at(None).is_none());
        }
    }
}
