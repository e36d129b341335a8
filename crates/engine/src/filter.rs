//! The filter language of Find and `rewind search`: conditions on an event's fields joined with
//! `and`, `or`, `not` and parentheses, or plain text.
//!
//! ```text
//! legacy-payout                                  text anywhere in the payload or metadata
//! amount_cents > 150000                          a payload field (dots reach nested ones)
//! amount_cents > 200000 and recorded_at >= 2024-02-01
//! (event_type == MoneyWithdrawn or event_type == FeeCharged) and not reference contains fee
//! "ada" and metadata.correlation_id == "c-17"    a quoted text is a text search among conditions
//! ```
//!
//! Names are those `rewind events` prints: `global_position`, `stream_id`, `stream_type`,
//! `stream_version`, `event_id`, `event_type`, `schema_version` and `recorded_at` are the
//! event's own; `metadata.…` its metadata; any other name is a payload field (`data.…` reaches a
//! payload field that shares a name with the event's own). A date or time compares by its
//! precision: `recorded_at <= 2024-02-01` includes that whole day, `== 2024-02-01T10:00` that
//! minute. A field an event lacks (or a time it does not know) matches no comparison.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;
use thiserror::Error;

use rewind_core::RecordedEvent;

/// A parsed filter.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    expr: Expr,
}

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// Case-insensitive text anywhere in the payload or metadata.
    Text(String),
    Compare {
        field: Field,
        op: Op,
        value: Literal,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum Field {
    GlobalPosition,
    StreamId,
    StreamType,
    StreamVersion,
    EventId,
    EventType,
    SchemaVersion,
    RecordedAt,
    Metadata(Vec<String>),
    Data(Vec<String>),
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

#[derive(Clone, Debug, PartialEq)]
enum Literal {
    Json(Value),
    /// A date or time, as the span of milliseconds its precision covers (both ends included).
    Time {
        first_ms: i64,
        last_ms: i64,
    },
}

/// A filter that does not read: what was expected, and where reading stopped.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("cannot read `{input}`: {reason}, at column {column}{}", near(input, *column))]
pub struct ConditionError {
    pub input: String,
    /// 1-based character column where reading stopped.
    pub column: usize,
    pub reason: String,
}

fn near(input: &str, column: usize) -> String {
    let rest: String = input.chars().skip(column.saturating_sub(1)).collect();
    if rest.trim().is_empty() {
        " (the end)".to_owned()
    } else {
        format!(" (`{}`)", rest.trim_end())
    }
}

impl Condition {
    /// Reads a filter. Input with no comparison in it, and not starting with a quote, `(` or
    /// `not`, is plain text to look for (what Find has always done with words).
    pub fn parse(input: &str) -> Result<Self, ConditionError> {
        let tokens = tokenize(input)?;
        let is_expression = tokens.iter().any(|t| matches!(t.kind, Kind::Op(_)))
            || tokens
                .first()
                .is_some_and(|t| matches!(t.kind, Kind::Open | Kind::Quoted(_) | Kind::Not));
        if !is_expression {
            return Ok(Self {
                expr: Expr::Text(input.trim().to_owned()),
            });
        }
        let mut parser = Parser {
            input,
            tokens: &tokens,
            at: 0,
        };
        let expr = parser.or()?;
        if let Some(token) = parser.peek() {
            return Err(parser.fail(token.start, "expected `and`, `or` or the end"));
        }
        Ok(Self { expr })
    }

    /// Whether `event` matches (as given: the caller decides between stored and upcast form).
    pub fn matches(&self, event: &RecordedEvent) -> bool {
        self.expr.matches(event)
    }

    /// The text to look for, when this is plain text with no condition in it.
    pub fn plain_text(&self) -> Option<&str> {
        match &self.expr {
            Expr::Text(text) => Some(text),
            _ => None,
        }
    }
}

impl Expr {
    fn matches(&self, event: &RecordedEvent) -> bool {
        match self {
            Self::And(a, b) => a.matches(event) && b.matches(event),
            Self::Or(a, b) => a.matches(event) || b.matches(event),
            Self::Not(a) => !a.matches(event),
            Self::Text(text) => {
                let needle = text.to_lowercase();
                event.data.to_string().to_lowercase().contains(&needle)
                    || event.metadata.to_string().to_lowercase().contains(&needle)
            }
            Self::Compare { field, op, value } => compare(field, *op, value, event),
        }
    }
}

fn compare(field: &Field, op: Op, literal: &Literal, event: &RecordedEvent) -> bool {
    let owned;
    let found: &Value = match field {
        Field::RecordedAt => {
            return match (event.recorded_at, literal) {
                (Some(at), Literal::Time { first_ms, last_ms }) => {
                    compare_time(at.timestamp_millis(), op, *first_ms, *last_ms)
                }
                // Parsing made sure a time is compared with a time.
                _ => false,
            };
        }
        Field::GlobalPosition => {
            owned = Value::from(event.global_position);
            &owned
        }
        Field::StreamVersion => {
            owned = Value::from(event.stream_version);
            &owned
        }
        Field::SchemaVersion => match event.schema_version {
            Some(v) => {
                owned = Value::from(v);
                &owned
            }
            None => return false,
        },
        Field::StreamId => {
            owned = Value::from(event.stream_id.as_str());
            &owned
        }
        Field::StreamType => {
            owned = Value::from(event.stream_type.as_str());
            &owned
        }
        Field::EventType => {
            owned = Value::from(event.event_type.as_str());
            &owned
        }
        Field::EventId => {
            owned = Value::from(event.event_id.to_string());
            &owned
        }
        Field::Metadata(path) => match walk(event.metadata.value(), path) {
            Some(v) => v,
            None => return false,
        },
        Field::Data(path) => match walk(event.data.value(), path) {
            Some(v) => v,
            None => return false,
        },
    };
    match literal {
        Literal::Time { first_ms, last_ms } => found
            .as_str()
            .and_then(|text| time_span(text).map(|(first, _)| first))
            .is_some_and(|at| compare_time(at, op, *first_ms, *last_ms)),
        Literal::Json(value) => compare_json(found, op, value),
    }
}

fn walk<'a>(mut value: &'a Value, path: &[String]) -> Option<&'a Value> {
    for key in path {
        value = match value {
            Value::Object(map) => map.get(key),
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        }?;
    }
    Some(value)
}

fn compare_time(at: i64, op: Op, first: i64, last: i64) -> bool {
    match op {
        Op::Eq | Op::Contains => (first..=last).contains(&at),
        Op::Ne => !(first..=last).contains(&at),
        Op::Gt => at > last,
        Op::Ge => at >= first,
        Op::Lt => at < first,
        Op::Le => at <= last,
    }
}

fn compare_json(field: &Value, op: Op, value: &Value) -> bool {
    match op {
        Op::Eq => loose_eq(field, value),
        Op::Ne => !loose_eq(field, value),
        Op::Contains => match (field, value) {
            (Value::String(s), Value::String(n)) => s.to_lowercase().contains(&n.to_lowercase()),
            (Value::Array(items), v) => items.iter().any(|i| loose_eq(i, v)),
            (f, v) => f.to_string().contains(&v.to_string()),
        },
        Op::Gt | Op::Ge | Op::Lt | Op::Le => {
            let ordering = match (field.as_f64(), value.as_f64()) {
                (Some(a), Some(b)) => a.partial_cmp(&b),
                _ => match (field.as_str(), value.as_str()) {
                    (Some(a), Some(b)) => Some(a.cmp(b)),
                    _ => None,
                },
            };
            let Some(ordering) = ordering else { return false };
            match op {
                Op::Gt => ordering.is_gt(),
                Op::Ge => ordering.is_ge(),
                Op::Lt => ordering.is_lt(),
                _ => ordering.is_le(),
            }
        }
    }
}

/// Numbers compare by value (`1250` equals `1250.0`); everything else structurally, and a
/// number written as text (`"1250"`) equals the number.
fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// A date or time as the first and last millisecond it covers: a date its day, a time its
/// minute or second, a time with a fraction its millisecond. Times without a zone are UTC.
pub fn time_span(text: &str) -> Option<(i64, i64)> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        let ms = at.timestamp_millis();
        let whole_second = !text.contains('.');
        return Some((ms, if whole_second { ms + 999 } else { ms }));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let first = day.and_hms_opt(0, 0, 0)?.and_utc();
        return Some(span(first, Duration::days(1)));
    }
    for (format, width) in [
        ("%Y-%m-%dT%H:%M:%S%.f", None),
        ("%Y-%m-%d %H:%M:%S%.f", None),
        ("%Y-%m-%dT%H:%M", Some(Duration::minutes(1))),
        ("%Y-%m-%d %H:%M", Some(Duration::minutes(1))),
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), format) {
            let at = at.and_utc();
            let width = width.unwrap_or(if text.contains('.') {
                Duration::milliseconds(1)
            } else {
                Duration::seconds(1)
            });
            return Some(span(at, width));
        }
    }
    None
}

/// Where a time range starts or ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    From,
    To,
}

/// A range's From or To as milliseconds: the first millisecond of a date or time as a start,
/// its last as an end (`To 2024-02-01` includes that day). `None` for empty text; an error,
/// naming `what` (`the From time`, `--to-time`), for text that is no time.
pub fn time_bound(text: &str, bound: Bound, what: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let (first, last) = time_span(text).ok_or_else(|| {
        format!("cannot read {what} `{text}`: write a date (2024-02-01) or a time (2024-02-01T10:00:00Z)")
    })?;
    Ok(Some(match bound {
        Bound::From => first,
        Bound::To => last,
    }))
}

fn span(first: DateTime<Utc>, width: Duration) -> (i64, i64) {
    let first = first.timestamp_millis();
    (first, first + width.num_milliseconds() - 1)
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Open,
    Close,
    And,
    Or,
    Not,
    Op(Op),
    Quoted(String),
    Word(String),
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    /// Byte offset in the input.
    start: usize,
}

fn tokenize(input: &str) -> Result<Vec<Token>, ConditionError> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        let two = input.get(start..start + 2).unwrap_or("");
        let kind = if c.is_whitespace() {
            chars.next();
            continue;
        } else if c == '(' {
            chars.next();
            Kind::Open
        } else if c == ')' {
            chars.next();
            Kind::Close
        } else if let Some(kind) = [
            ("&&", Kind::And),
            ("||", Kind::Or),
            (">=", Kind::Op(Op::Ge)),
            ("<=", Kind::Op(Op::Le)),
            ("!=", Kind::Op(Op::Ne)),
            ("==", Kind::Op(Op::Eq)),
        ]
        .into_iter()
        .find_map(|(text, kind)| (two == text).then_some(kind))
        {
            chars.next();
            chars.next();
            kind
        } else if let Some(kind) = [
            ('>', Kind::Op(Op::Gt)),
            ('<', Kind::Op(Op::Lt)),
            ('=', Kind::Op(Op::Eq)),
            ('!', Kind::Not),
        ]
        .into_iter()
        .find_map(|(text, kind)| (c == text).then_some(kind))
        {
            chars.next();
            kind
        } else if c == '"' || c == '\'' {
            Kind::Quoted(quoted(input, start, c, &mut chars)?)
        } else {
            let mut end = start;
            while let Some(&(i, c)) = chars.peek() {
                if c.is_whitespace() || "()<>=!&|\"'".contains(c) {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            let word = &input[start..end];
            match word.to_ascii_lowercase().as_str() {
                "and" => Kind::And,
                "or" => Kind::Or,
                "not" => Kind::Not,
                "contains" => Kind::Op(Op::Contains),
                _ => Kind::Word(word.to_owned()),
            }
        };
        tokens.push(Token { kind, start });
    }
    Ok(tokens)
}

/// A quoted text: JSON's escapes in double quotes, none in single ones.
fn quoted(
    input: &str,
    start: usize,
    quote: char,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<String, ConditionError> {
    chars.next();
    let mut escaped = false;
    for (i, c) in chars.by_ref() {
        if escaped {
            escaped = false;
        } else if c == '\\' && quote == '"' {
            escaped = true;
        } else if c == quote {
            let body = &input[start..=i];
            return if quote == '"' {
                serde_json::from_str(body)
                    .map_err(|e| fail_at(input, start, &format!("a quoted text does not read ({e})")))
            } else {
                Ok(body[1..body.len() - 1].to_owned())
            };
        }
    }
    Err(fail_at(input, start, "a quote is not closed"))
}

fn fail_at(input: &str, byte: usize, reason: &str) -> ConditionError {
    ConditionError {
        input: input.to_owned(),
        column: input[..byte.min(input.len())].chars().count() + 1,
        reason: reason.to_owned(),
    }
}

struct Parser<'a> {
    input: &'a str,
    tokens: &'a [Token],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn end(&self) -> usize {
        self.input.len()
    }

    fn fail(&self, byte: usize, reason: &str) -> ConditionError {
        fail_at(self.input, byte, reason)
    }

    fn or(&mut self) -> Result<Expr, ConditionError> {
        let mut left = self.and()?;
        while self.peek().is_some_and(|t| t.kind == Kind::Or) {
            self.next();
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ConditionError> {
        let mut left = self.unary()?;
        while self.peek().is_some_and(|t| t.kind == Kind::And) {
            self.next();
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ConditionError> {
        let Some(token) = self.next() else {
            return Err(self.fail(self.end(), "expected a condition"));
        };
        match token.kind {
            Kind::Not => Ok(Expr::Not(Box::new(self.unary()?))),
            Kind::Open => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token { kind: Kind::Close, .. }) => Ok(inner),
                    Some(other) => Err(self.fail(other.start, "expected `)`")),
                    None => Err(self.fail(self.end(), "expected `)`")),
                }
            }
            Kind::Quoted(text) => Ok(Expr::Text(text)),
            Kind::Word(name) => self.comparison(&name, token.start),
            _ => Err(self.fail(token.start, "expected a field name, a quoted text, `not` or `(`")),
        }
    }

    fn comparison(&mut self, name: &str, start: usize) -> Result<Expr, ConditionError> {
        let field = field(name).map_err(|reason| self.fail(start, &reason))?;
        let op = match self.next() {
            Some(Token { kind: Kind::Op(op), .. }) => op,
            Some(other) => {
                return Err(self.fail(
                    other.start,
                    &format!("expected an operator after `{name}` (one of == != > >= < <= contains)"),
                ));
            }
            None => {
                return Err(self.fail(
                    self.end(),
                    &format!("expected an operator after `{name}` (one of == != > >= < <= contains)"),
                ));
            }
        };
        let (text, quoted, at) = match self.next() {
            Some(Token {
                kind: Kind::Word(w),
                start,
            }) => (w, false, start),
            Some(Token {
                kind: Kind::Quoted(q),
                start,
            }) => (q, true, start),
            Some(other) => return Err(self.fail(other.start, "expected a value")),
            None => return Err(self.fail(self.end(), "expected a value")),
        };
        let time = time_span(&text).map(|(first_ms, last_ms)| Literal::Time { first_ms, last_ms });
        let value = if field == Field::RecordedAt {
            time.ok_or_else(|| {
                self.fail(
                    at,
                    &format!(
                        "`recorded_at` compares with a date or time (2024-02-01, 2024-02-01T10:00:00Z), not `{text}`"
                    ),
                )
            })?
        } else if quoted {
            // A quoted value is text, unless it is a date or time compared by order.
            match time {
                Some(time) if !matches!(op, Op::Eq | Op::Ne | Op::Contains) => time,
                _ => Literal::Json(Value::String(text)),
            }
        } else if let Ok(json) = serde_json::from_str::<Value>(&text) {
            Literal::Json(json)
        } else if let Some(time) = time {
            time
        } else {
            Literal::Json(Value::String(text))
        };
        Ok(Expr::Compare { field, op, value })
    }
}

fn field(name: &str) -> Result<Field, String> {
    let name = name.trim_start_matches('$').trim_start_matches('.');
    let path = |rest: &str| -> Result<Vec<String>, String> {
        if rest.is_empty() || rest.split('.').any(str::is_empty) {
            Err(format!(
                "`{name}` is not a field name (names are joined with single dots)"
            ))
        } else {
            Ok(rest.split('.').map(str::to_owned).collect())
        }
    };
    Ok(match name {
        "global_position" => Field::GlobalPosition,
        "stream_id" => Field::StreamId,
        "stream_type" => Field::StreamType,
        "stream_version" => Field::StreamVersion,
        "event_id" => Field::EventId,
        "event_type" => Field::EventType,
        "schema_version" => Field::SchemaVersion,
        "recorded_at" => Field::RecordedAt,
        _ => {
            if let Some(rest) = name.strip_prefix("metadata.") {
                Field::Metadata(path(rest)?)
            } else if let Some(rest) = name.strip_prefix("data.") {
                Field::Data(path(rest)?)
            } else {
                Field::Data(path(name)?)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(data: Value, at: Option<&str>) -> RecordedEvent {
        RecordedEvent {
            global_position: 7,
            stream_id: "account-0001".into(),
            stream_type: "account".into(),
            stream_version: 3,
            event_id: uuid::Uuid::nil(),
            event_type: "MoneyDeposited".into(),
            schema_version: Some(2),
            recorded_at: at.map(|t| t.parse().unwrap()),
            data: data.into(),
            metadata: json!({"correlation_id": "c-17"}).into(),
        }
    }

    fn matches(filter: &str, data: Value) -> bool {
        Condition::parse(filter)
            .unwrap()
            .matches(&event(data, Some("2024-02-01T10:30:00.250Z")))
    }

    #[test]
    fn single_conditions_match_numbers_strings_and_nested_fields() {
        assert!(matches("amount_cents > 100000", json!({"amount_cents": 100_001})));
        assert!(!matches("amount_cents > 100000", json!({"amount_cents": 100_000})));
        assert!(!matches("amount_cents > 100000", json!({"amount": 5})));
        assert!(matches("holder == \"Ada Lovelace\"", json!({"holder": "Ada Lovelace"})));
        assert!(matches("items.0.quantity >= 2", json!({"items": [{"quantity": 2}]})));
        assert!(matches(
            "reference contains legacy",
            json!({"reference": "legacy-payout-1"})
        ));
        assert!(matches("$.status != closed", json!({"status": "open"})));
        assert!(matches("reference == 'a b'", json!({"reference": "a b"})));
    }

    #[test]
    fn conditions_combine_with_and_or_not_and_parentheses() {
        let data = json!({"amount_cents": 250_000, "reference": "rent"});
        assert!(matches("amount_cents > 200000 and reference == rent", data.clone()));
        assert!(!matches("amount_cents > 200000 && reference == salary", data.clone()));
        assert!(matches("amount_cents > 900000 or reference == rent", data.clone()));
        assert!(matches(
            "not (amount_cents > 900000 || reference == salary)",
            data.clone()
        ));
        assert!(!matches("!(reference == rent)", data.clone()));
        // `and` binds tighter than `or`.
        assert!(matches(
            "reference == rent or amount_cents > 1 and amount_cents < 0",
            data.clone()
        ));
        assert!(matches("\"RENT\" and amount_cents > 1", data));
    }

    #[test]
    fn the_events_own_fields_and_its_metadata_are_named_as_rewind_events_prints_them() {
        let data = json!({"stream_id": "in the payload", "amount_cents": 1});
        assert!(matches(
            "event_type == MoneyDeposited and stream_id == account-0001",
            data.clone()
        ));
        assert!(matches(
            "stream_version == 3 and global_position == 7 and schema_version == 2",
            data.clone()
        ));
        assert!(matches("data.stream_id == 'in the payload'", data.clone()));
        assert!(matches("metadata.correlation_id == c-17", data.clone()));
        assert!(matches("stream_type == account and event_id contains 0000", data));
    }

    #[test]
    fn times_compare_by_the_precision_they_are_written_in() {
        let any = json!({});
        assert!(matches("recorded_at >= 2024-02-01", any.clone()));
        assert!(
            matches("recorded_at <= 2024-02-01", any.clone()),
            "a date includes its whole day"
        );
        assert!(!matches("recorded_at > 2024-02-01", any.clone()));
        assert!(!matches("recorded_at < 2024-02-01", any.clone()));
        assert!(matches("recorded_at == 2024-02-01T10:30", any.clone()));
        assert!(!matches("recorded_at == 2024-02-01T10:31", any.clone()));
        assert!(matches("recorded_at == 2024-02-01T10:30:00Z", any.clone()));
        assert!(matches("recorded_at < 2024-02-01T11:31:00+01:00", any.clone()));
        assert!(!matches("recorded_at == 2024-02-01T10:30:00.249Z", any));
        // A time in the payload compares as a time.
        assert!(matches("due < 2024-03-01", json!({"due": "2024-02-29T23:00:00Z"})));
        // An event of unknown time is in no range.
        let unknown = event(json!({}), None);
        for filter in ["recorded_at >= 2000-01-01", "recorded_at != 2000-01-01"] {
            assert!(!Condition::parse(filter).unwrap().matches(&unknown), "{filter}");
        }
    }

    #[test]
    fn text_without_a_comparison_is_a_text_search() {
        let filter = Condition::parse("legacy payout").unwrap();
        assert_eq!(filter.plain_text(), Some("legacy payout"));
        assert_eq!(
            Condition::parse("\"legacy payout\"").unwrap().plain_text(),
            Some("legacy payout")
        );
        assert!(filter.matches(&event(json!({"reference": "LEGACY PAYOUT 7"}), None)));
        assert!(matches("c-17", json!({})), "metadata is searched too");
    }

    #[test]
    fn what_does_not_read_is_an_error_that_says_where_it_stopped() {
        let error = |input: &str| Condition::parse(input).unwrap_err();
        let e = error("amount_cents > 200000 andd recorded_at >= 2024-02-01");
        assert_eq!(e.column, 23, "{e}");
        assert!(e.to_string().contains("expected `and`, `or` or the end"), "{e}");
        assert!(e.to_string().contains("(`andd recorded_at >= 2024-02-01`)"), "{e}");
        assert!(error("amount_cents >").to_string().contains("expected a value"));
        assert!(
            error("recorded_at >= soon")
                .to_string()
                .contains("compares with a date or time")
        );
        assert!(error("(amount_cents > 1").to_string().contains("expected `)`"));
        assert!(
            error("reference == \"rent")
                .to_string()
                .contains("a quote is not closed")
        );
        assert!(
            error("amount_cents > 1 and")
                .to_string()
                .contains("expected a condition")
        );
        assert!(error("> 5").to_string().contains("expected a field name"));
        assert!(error("a..b > 5").to_string().contains("not a field name"));
        let e = error("amount_cents > 1 and reference");
        assert!(e.to_string().contains("expected an operator after `reference`"), "{e}");
    }
}
