//! Search and filter: header conditions answered from the index, payload conditions from
//! events fetched in batches. Results are ordinals the cursor can jump to.

use serde_json::Value;
use thiserror::Error;

use rewind_core::RecordedEvent;

use crate::engine::{Engine, EventFetch, SeekError};
use crate::index::{EventHeader, Ordinal, StreamIdx};

/// What to look for; every set field must match.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    pub stream: Option<StreamIdx>,
    /// Any of these event types (empty: any type).
    pub event_types: Vec<u16>,
    /// Recorded at or after this time (ms since the Unix epoch).
    pub from_ms: Option<i64>,
    /// Recorded at or before this time.
    pub to_ms: Option<i64>,
    pub correlation_id: Option<String>,
    /// Case-insensitive text anywhere in the payload or metadata.
    pub text: Option<String>,
    pub condition: Option<Condition>,
}

impl Query {
    fn needs_payload(&self) -> bool {
        self.correlation_id.is_some() || self.text.is_some() || self.condition.is_some()
    }

    fn matches_header(&self, header: &EventHeader) -> bool {
        self.stream.is_none_or(|s| header.stream == s)
            && (self.event_types.is_empty() || self.event_types.contains(&header.event_type))
            // An event of unknown time is in no time range.
            && self.from_ms.is_none_or(|t| header.recorded_at_ms().is_some_and(|at| at >= t))
            && self.to_ms.is_none_or(|t| header.recorded_at_ms().is_some_and(|at| at <= t))
    }

    fn matches_event(&self, event: &RecordedEvent) -> bool {
        self.correlation_id
            .as_deref()
            .is_none_or(|c| event.correlation_id() == Some(c))
            && self.text.as_deref().is_none_or(|text| {
                let needle = text.to_lowercase();
                event.data.to_string().to_lowercase().contains(&needle)
                    || event.metadata.to_string().to_lowercase().contains(&needle)
            })
            && self.condition.as_ref().is_none_or(|c| c.matches(event.data.value()))
    }
}

/// A condition on one payload field: `amount_cents > 100000`, `holder == "Ada"`,
/// `items.0.product_id contains sku`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// Field path, dot-separated (array indexes as numbers).
    pub path: Vec<String>,
    pub op: Op,
    pub value: Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Contains,
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("cannot read condition `{input}`: {reason} (expected e.g. `amount_cents > 100000`)")]
pub struct ConditionError {
    pub input: String,
    pub reason: String,
}

impl Condition {
    pub fn parse(input: &str) -> Result<Self, ConditionError> {
        let fail = |reason: &str| ConditionError {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let ops = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("!=", Op::Ne),
            ("==", Op::Eq),
            (" contains ", Op::Contains),
            (">", Op::Gt),
            ("<", Op::Lt),
            ("=", Op::Eq),
        ];
        let (at, token, op) = ops
            .iter()
            .filter_map(|(token, op)| input.find(token).map(|at| (at, *token, *op)))
            .min_by_key(|(at, token, _)| (*at, std::cmp::Reverse(token.len())))
            .ok_or_else(|| fail("no operator (one of > >= < <= == != contains)"))?;
        let field = input[..at].trim().trim_start_matches('$').trim_start_matches('.');
        let raw = input[at + token.len()..].trim();
        if field.is_empty() {
            return Err(fail("no field before the operator"));
        }
        if raw.is_empty() {
            return Err(fail("no value after the operator"));
        }
        let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.trim_matches('\'').to_owned()));
        Ok(Self {
            path: field.split('.').map(str::to_owned).collect(),
            op,
            value,
        })
    }

    pub fn matches(&self, data: &Value) -> bool {
        let mut field = data;
        for key in &self.path {
            let next = match field {
                Value::Object(map) => map.get(key),
                Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            let Some(next) = next else { return false };
            field = next;
        }
        match self.op {
            Op::Eq => loose_eq(field, &self.value),
            Op::Ne => !loose_eq(field, &self.value),
            Op::Contains => match (field, &self.value) {
                (Value::String(s), Value::String(n)) => s.to_lowercase().contains(&n.to_lowercase()),
                (Value::Array(items), v) => items.iter().any(|i| loose_eq(i, v)),
                (f, v) => f.to_string().contains(&v.to_string()),
            },
            Op::Gt | Op::Ge | Op::Lt | Op::Le => {
                let ordering = match (field.as_f64(), self.value.as_f64()) {
                    (Some(a), Some(b)) => a.partial_cmp(&b),
                    _ => match (field.as_str(), self.value.as_str()) {
                        (Some(a), Some(b)) => Some(a.cmp(b)),
                        _ => None,
                    },
                };
                let Some(ordering) = ordering else { return false };
                match self.op {
                    Op::Gt => ordering.is_gt(),
                    Op::Ge => ordering.is_ge(),
                    Op::Lt => ordering.is_lt(),
                    _ => ordering.is_le(),
                }
            }
        }
    }
}

/// Numbers compare by value (`1250` equals `1250.0`); everything else structurally.
fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

impl Engine {
    /// Ordinals of the events matching `query`, in global order. Header conditions come from
    /// the index; payload conditions fetch the candidates in batches.
    pub fn search(&self, query: &Query, fetch: &dyn EventFetch) -> Result<Vec<Ordinal>, SeekError> {
        let headers = self.index().headers();
        let candidates: Vec<Ordinal> = match query.stream.and_then(|s| self.index().stream(s)) {
            Some(entry) => entry
                .ordinals
                .iter()
                .map(|&o| o as usize)
                .filter(|&o| query.matches_header(&headers[o]))
                .collect(),
            None => (0..headers.len())
                .filter(|&o| query.matches_header(&headers[o]))
                .collect(),
        };
        if !query.needs_payload() {
            return Ok(candidates);
        }
        let mut found = Vec::new();
        for chunk in candidates.chunks(4096) {
            let positions: Vec<u64> = chunk.iter().map(|&o| self.index().position(o)).collect();
            let events = if chunk.len() as u64 * 2 > positions[positions.len() - 1] - positions[0] + 1 {
                // Dense: one range read is cheaper than a position list.
                let range = fetch.events_between(positions[0], positions[positions.len() - 1])?;
                range
                    .into_iter()
                    .filter(|e| positions.binary_search(&e.global_position).is_ok())
                    .collect()
            } else {
                fetch.events_at(&positions)?
            };
            for event in &events {
                if query.matches_event(event)
                    && let Ok(i) = positions.binary_search(&event.global_position)
                {
                    found.push(chunk[i]);
                }
            }
        }
        Ok(found)
    }

    /// How many of `ordinals` (sorted) fall in each of `buckets` equal slices of the ordinal
    /// range `from..to`: the density graph, one bucket per pixel.
    pub fn density(ordinals: &[Ordinal], from: Ordinal, to: Ordinal, buckets: usize) -> Vec<u32> {
        let mut counts = vec![0u32; buckets];
        if buckets == 0 || to <= from {
            return counts;
        }
        let span = (to - from) as f64;
        let start = ordinals.partition_point(|&o| o < from);
        for &o in &ordinals[start..] {
            if o >= to {
                break;
            }
            let bucket = (((o - from) as f64 / span) * buckets as f64) as usize;
            counts[bucket.min(buckets - 1)] += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_parse_and_match_numbers_strings_and_nested_fields() {
        let big = Condition::parse("amount_cents > 100000").unwrap();
        assert!(big.matches(&json!({"amount_cents": 100_001})));
        assert!(!big.matches(&json!({"amount_cents": 100_000})));
        assert!(!big.matches(&json!({"amount": 5})));
        assert!(
            Condition::parse("holder == \"Ada Lovelace\"")
                .unwrap()
                .matches(&json!({"holder": "Ada Lovelace"}))
        );
        assert!(
            Condition::parse("items.0.quantity >= 2")
                .unwrap()
                .matches(&json!({"items": [{"quantity": 2}]}))
        );
        assert!(
            Condition::parse("reference contains legacy")
                .unwrap()
                .matches(&json!({"reference": "legacy-payout-1"}))
        );
        assert!(
            Condition::parse("$.status != closed")
                .unwrap()
                .matches(&json!({"status": "open"}))
        );
    }

    #[test]
    fn a_condition_without_an_operator_or_value_is_a_clear_error() {
        assert!(
            Condition::parse("amount_cents")
                .unwrap_err()
                .to_string()
                .contains("no operator")
        );
        assert!(
            Condition::parse("amount_cents >")
                .unwrap_err()
                .to_string()
                .contains("no value")
        );
    }

    #[test]
    fn density_counts_ordinals_per_bucket() {
        assert_eq!(Engine::density(&[0, 1, 2, 9], 0, 10, 5), vec![2, 1, 0, 0, 1]);
        assert_eq!(Engine::density(&[5], 0, 10, 0), Vec::<u32>::new());
    }
}
