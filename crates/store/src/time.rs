//! How Rewind writes a time as text, and reads it back.

use chrono::{DateTime, SecondsFormat, Utc};

/// RFC 3339 UTC with milliseconds and a `Z`: sorts as text in time order.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A time that may be unknown, as Rewind's SQLite store keeps it: its text, or empty when the
/// store it came from recorded none.
pub(crate) fn format_stored_time(time: Option<DateTime<Utc>>) -> String {
    time.map(format_time).unwrap_or_default()
}

pub(crate) fn parse_time(text: &str) -> std::result::Result<DateTime<Utc>, String> {
    match parse_written_time(text.as_bytes()) {
        Some(time) => Ok(time),
        None => parse_rfc3339(text),
    }
}

/// Any RFC 3339 time, read by chrono (which words what is wrong).
pub(crate) fn parse_rfc3339(text: &str) -> std::result::Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{text}` is not an RFC 3339 time: {e}"))
}

/// The one spelling [`format_time`] writes, `YYYY-MM-DDTHH:MM:SS.mmmZ`, read without a general
/// RFC 3339 parser (a measurable part of reading a store); `None` for anything else,
/// which the general parser reads or explains.
pub(crate) fn parse_written_time(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range]
            .iter()
            .try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let date = chrono::NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)?;
    let time = date.and_hms_milli_opt(number(11..13)?, number(14..16)?, number(17..19)?, number(20..23)?)?;
    Some(time.and_utc())
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use proptest::prelude::*;

    use super::{format_time, parse_time, parse_written_time};

    proptest! {
        /// The fast reading of the written spelling agrees with the general parser.
        #[test]
        fn written_times_read_back_as_the_general_parser_reads_them(ms in 0i64..253_402_300_799_999) {
            let time = Utc.timestamp_millis_opt(ms).single().expect("in range");
            let text = format_time(time);
            prop_assert_eq!(parse_written_time(text.as_bytes()), Some(time));
            prop_assert_eq!(DateTime::parse_from_rfc3339(&text).map(|t| t.with_timezone(&Utc)).ok(), Some(time));
        }
    }

    #[test]
    fn other_spellings_go_to_the_general_parser() {
        for text in [
            "2024-01-01T08:00:40Z",
            "2024-01-01T08:00:40.913+02:00",
            "2024-01-01t08:00:40.913Z",
            "2024-02-30T08:00:40.913Z",
            "2016-12-31T23:59:60.500Z",
            "2024-01-01T08:00:4a.913Z",
            "not a time at all, 24 ch",
        ] {
            assert_eq!(parse_written_time(text.as_bytes()), None, "{text}");
        }
        assert_eq!(
            parse_time("2024-01-01T10:00:40.913+02:00"),
            Ok(Utc.with_ymd_and_hms(2024, 1, 1, 8, 0, 40).unwrap() + chrono::Duration::milliseconds(913))
        );
        assert!(
            parse_time("2024-02-30T08:00:40.913Z")
                .unwrap_err()
                .contains("2024-02-30T08:00:40.913Z")
        );
    }
}
