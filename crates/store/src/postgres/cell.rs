//! One selected value, decoded by its column's type over the binary protocol.

use chrono::DateTime;
use postgres::Row;
use serde_json::Value;

use rewind_core::Payload;

use crate::decode::{self, RawPayload};

/// Column types the row decoder reads directly, as `information_schema` names them.
pub(super) const DIRECT_TYPES: &[&str] = &[
    "json",
    "jsonb",
    "bytea",
    "uuid",
    "text",
    "character varying",
    "bigint",
    "integer",
    "smallint",
    "timestamp with time zone",
    "timestamp without time zone",
];

/// One selected value, decoded by its type.
pub(super) enum Cell {
    Null,
    Text(String),
    Integer(i64),
    Uuid(uuid::Uuid),
    Time(DateTime<chrono::Utc>),
    /// A json or jsonb column's text.
    Json(String),
    Bytes(Vec<u8>),
}

impl Cell {
    pub(super) fn into_text(self) -> String {
        match self {
            Self::Null => String::new(),
            Self::Text(text) | Self::Json(text) => text,
            Self::Integer(n) => n.to_string(),
            Self::Uuid(id) => id.to_string(),
            Self::Time(time) => time.to_rfc3339(),
            Self::Bytes(bytes) => decode::hex(&bytes),
        }
    }

    /// As a payload: JSON as it is, text and bytes decoded (with a note if not JSON).
    pub(super) fn into_payload(self) -> (Payload, decode::Note) {
        match self {
            Self::Null => (Value::Null.into(), decode::Note::default()),
            // The server keeps only valid JSON in json and jsonb columns: not checked again
            // here (a replay checks what nothing parsed).
            Self::Json(text) => (Payload::from_stored_json(text), decode::Note::default()),
            Self::Text(text) => decode::decode_payload(RawPayload::OwnedText(text)),
            Self::Bytes(bytes) => decode::decode_payload(RawPayload::Bytes(&bytes)),
            Self::Integer(n) => (Value::from(n).into(), decode::Note::default()),
            other => (Value::String(other.into_text()).into(), decode::Note::default()),
        }
    }
}

/// A json or jsonb column as its text, kept as text (see `Payload`): jsonb's binary form is a
/// version byte (1) and then the text.
struct JsonText(String);

impl<'a> postgres::types::FromSql<'a> for JsonText {
    fn from_sql(
        ty: &postgres::types::Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let text = if *ty == postgres::types::Type::JSONB {
            match raw.split_first() {
                Some((1, text)) => text,
                _ => return Err("unsupported jsonb format version".into()),
            }
        } else {
            raw
        };
        Ok(Self(std::str::from_utf8(text)?.to_owned()))
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        matches!(*ty, postgres::types::Type::JSON | postgres::types::Type::JSONB)
    }
}

pub(super) fn cell(row: &Row, i: usize) -> Result<Cell, postgres::Error> {
    use postgres::types::Type;
    let kind = row.columns()[i].type_().clone();
    Ok(match kind {
        Type::JSON | Type::JSONB => row
            .try_get::<_, Option<JsonText>>(i)?
            .map_or(Cell::Null, |json| Cell::Json(json.0)),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map_or(Cell::Null, Cell::Bytes),
        Type::UUID => row.try_get::<_, Option<uuid::Uuid>>(i)?.map_or(Cell::Null, Cell::Uuid),
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map_or(Cell::Null, Cell::Integer),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map_or(Cell::Null, |n| Cell::Integer(i64::from(n))),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map_or(Cell::Null, |n| Cell::Integer(i64::from(n))),
        Type::TIMESTAMPTZ => row
            .try_get::<_, Option<DateTime<chrono::Utc>>>(i)?
            .map_or(Cell::Null, Cell::Time),
        // Without a zone (Message DB, disintegrate): UTC by convention.
        Type::TIMESTAMP => row
            .try_get::<_, Option<chrono::NaiveDateTime>>(i)?
            .map_or(Cell::Null, |t| Cell::Time(t.and_utc())),
        _ => row.try_get::<_, Option<String>>(i)?.map_or(Cell::Null, Cell::Text),
    })
}
