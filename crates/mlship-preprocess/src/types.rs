//! Per-column type overrides and datetime text parsing.
//!
//! A pipeline spec may say that a column of numbers holds category labels (`year =
//! "categorical"`), that text holds numbers, or that text holds dates in a given format
//! (`signup = "datetime:%Y-%m-%d"`). The override is applied to the raw batch after reading, and
//! recorded in the input schema, so prediction-time input is read the same way.

use mlship_core::{ColumnData, RawColumn};
use serde::{Deserialize, Serialize};

use crate::error::{PreprocessError, Result};

/// The type a column is read as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// Real numbers.
    Numeric,
    /// Category labels.
    Categorical,
    /// `true` / `false`.
    Boolean,
    /// Instants written in a `strftime`-style format.
    Datetime(String),
}

impl ColumnType {
    /// Parses `numeric`, `categorical`, `boolean` or `datetime:<format>`.
    pub fn parse(column: &str, text: &str) -> Result<Self> {
        match text {
            "numeric" => Ok(Self::Numeric),
            "categorical" => Ok(Self::Categorical),
            "boolean" => Ok(Self::Boolean),
            t if t.starts_with("datetime:") => {
                let format = &t["datetime:".len()..];
                parse_datetime(format, "1970-01-01").ok();
                validate_format(format).map_err(|detail| PreprocessError::Column {
                    column: column.to_owned(),
                    detail,
                })?;
                Ok(Self::Datetime(format.to_owned()))
            }
            "datetime" => Ok(Self::Datetime("%Y-%m-%d".into())),
            other => Err(PreprocessError::Invalid {
                param: format!("read.types.{column}"),
                value: format!("{other:?}"),
                expected:
                    "numeric, categorical, boolean or datetime:<format> (such as datetime:%Y-%m-%d)"
                        .into(),
            }),
        }
    }
}

/// Converts `column` to `to`; the error names the column and the first row that does not convert.
#[allow(clippy::too_many_lines)] // one arm per pair of types
pub fn convert_column(column: RawColumn, to: &ColumnType) -> Result<RawColumn> {
    let name = column.name.clone();
    let fail = |row: usize, value: &str, what: &str| PreprocessError::Column {
        column: name.clone(),
        detail: format!(
            "row {row}: {value:?} is not {what}\nhint: fix the value, or change read.types"
        ),
    };
    let n = column.len();
    let valid = |r: usize| column.validity.as_ref().is_none_or(|v| v[r]);
    let data = match (&column.data, to) {
        (ColumnData::Numeric(_), ColumnType::Numeric)
        | (ColumnData::Categorical { .. }, ColumnType::Categorical)
        | (ColumnData::Boolean(_), ColumnType::Boolean)
        | (ColumnData::Datetime(_), ColumnType::Datetime(_)) => return Ok(column),
        (ColumnData::Categorical { dict, codes }, ColumnType::Numeric) => {
            let parsed: Vec<Option<f64>> =
                dict.iter().map(|s| s.trim().parse::<f64>().ok()).collect();
            let mut out = Vec::with_capacity(n);
            for (r, &c) in codes.iter().enumerate() {
                if !valid(r) {
                    out.push(0.0);
                    continue;
                }
                match parsed[c as usize] {
                    Some(x) => out.push(x),
                    None => return Err(fail(r, &dict[c as usize], "a number")),
                }
            }
            ColumnData::Numeric(out)
        }
        (ColumnData::Categorical { dict, codes }, ColumnType::Boolean) => {
            let parsed: Vec<Option<bool>> = dict.iter().map(|s| parse_bool(s)).collect();
            let mut out = Vec::with_capacity(n);
            for (r, &c) in codes.iter().enumerate() {
                if !valid(r) {
                    out.push(false);
                    continue;
                }
                match parsed[c as usize] {
                    Some(b) => out.push(b),
                    None => {
                        return Err(fail(
                            r,
                            &dict[c as usize],
                            "a boolean (true/false, yes/no, 1/0)",
                        ));
                    }
                }
            }
            ColumnData::Boolean(out)
        }
        (ColumnData::Categorical { dict, codes }, ColumnType::Datetime(format)) => {
            let parsed: Vec<Option<i64>> = dict
                .iter()
                .map(|s| parse_datetime(format, s.trim()).ok())
                .collect();
            let mut out = Vec::with_capacity(n);
            for (r, &c) in codes.iter().enumerate() {
                if !valid(r) {
                    out.push(0);
                    continue;
                }
                match parsed[c as usize] {
                    Some(t) => out.push(t),
                    None => {
                        return Err(fail(
                            r,
                            &dict[c as usize],
                            &format!("a date in the format {format}"),
                        ));
                    }
                }
            }
            ColumnData::Datetime(out)
        }
        (ColumnData::Numeric(v), ColumnType::Categorical) => {
            let texts: Vec<Option<String>> = (0..n)
                .map(|r| valid(r).then(|| format_number(v[r])))
                .collect();
            return Ok(RawColumn::categorical(
                name.clone(),
                texts.iter().map(Option::as_deref),
            ));
        }
        (ColumnData::Boolean(v), ColumnType::Categorical) => {
            let texts: Vec<Option<&str>> = (0..n)
                .map(|r| valid(r).then_some(if v[r] { "true" } else { "false" }))
                .collect();
            return Ok(RawColumn::categorical(name.clone(), texts));
        }
        (ColumnData::Boolean(v), ColumnType::Numeric) => {
            ColumnData::Numeric(v.iter().map(|&b| f64::from(u8::from(b))).collect())
        }
        (ColumnData::Numeric(v), ColumnType::Boolean) => {
            let mut out = Vec::with_capacity(n);
            for (r, &x) in v.iter().enumerate() {
                if !valid(r) {
                    out.push(false);
                } else if x == 0.0 || x == 1.0 {
                    out.push(x == 1.0);
                } else {
                    return Err(fail(r, &x.to_string(), "a boolean (0 or 1)"));
                }
            }
            ColumnData::Boolean(out)
        }
        (from, to) => {
            return Err(PreprocessError::Column {
                column: name.clone(),
                detail: format!("cannot read a {} column as {to:?}", from.type_name()),
            });
        }
    };
    Ok(RawColumn {
        name,
        data,
        validity: column.validity,
    })
}

/// A number as a category label: integers without a fractional part (`3`, not `3.0`).
pub fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "t" | "y" => Some(true),
        "false" | "no" | "0" | "f" | "n" => Some(false),
        _ => None,
    }
}

fn validate_format(format: &str) -> Result<(), String> {
    let mut chars = format.chars();
    let mut has_date = false;
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('Y' | 'm' | 'd') => has_date = true,
                Some('H' | 'M' | 'S' | 'f' | '%') => {}
                other => {
                    return Err(format!(
                        "datetime format {format:?}: unsupported directive %{}\nhint: use %Y %m %d %H %M %S %f and literal text",
                        other.map(String::from).unwrap_or_default()
                    ));
                }
            }
        }
    }
    if has_date {
        Ok(())
    } else {
        Err(format!("datetime format {format:?} has no %Y, %m or %d"))
    }
}

/// Parses `text` in a `strftime`-style `format` (`%Y %m %d %H %M %S %f`, other characters
/// literal) into microseconds since the Unix epoch, UTC.
pub fn parse_datetime(format: &str, text: &str) -> Result<i64, String> {
    let (mut year, mut month, mut day, mut hour, mut minute, mut second, mut micros) =
        (1970i64, 1u32, 1u32, 0u32, 0u32, 0u32, 0u32);
    let t = text.as_bytes();
    let mut pos = 0usize;
    let mut chars = format.chars();
    let number = |pos: &mut usize, max_digits: usize| -> Result<(i64, usize), String> {
        let start = *pos;
        let mut v: i64 = 0;
        if *pos < t.len() && (t[*pos] == b'-' || t[*pos] == b'+') && max_digits == 4 {
            *pos += 1;
        }
        let digits_start = *pos;
        while *pos < t.len() && *pos - digits_start < max_digits && t[*pos].is_ascii_digit() {
            v = v * 10 + i64::from(t[*pos] - b'0');
            *pos += 1;
        }
        if *pos == digits_start {
            return Err(format!("expected a number at position {start} of {text:?}"));
        }
        if t[start] == b'-' {
            v = -v;
        }
        Ok((v, *pos - digits_start))
    };
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('Y') => year = number(&mut pos, 4)?.0,
                Some('m') => month = number(&mut pos, 2)?.0 as u32,
                Some('d') => day = number(&mut pos, 2)?.0 as u32,
                Some('H') => hour = number(&mut pos, 2)?.0 as u32,
                Some('M') => minute = number(&mut pos, 2)?.0 as u32,
                Some('S') => second = number(&mut pos, 2)?.0 as u32,
                Some('f') => {
                    let (v, digits) = number(&mut pos, 9)?;
                    let scaled = if digits <= 6 {
                        v * 10i64.pow(6 - digits as u32)
                    } else {
                        v / 10i64.pow(digits as u32 - 6)
                    };
                    micros = scaled as u32;
                }
                Some('%') => {
                    if t.get(pos) != Some(&b'%') {
                        return Err(format!("expected '%' at position {pos} of {text:?}"));
                    }
                    pos += 1;
                }
                other => {
                    return Err(format!(
                        "unsupported directive %{}",
                        other.map(String::from).unwrap_or_default()
                    ));
                }
            }
        } else {
            let mut buf = [0u8; 4];
            let lit = c.encode_utf8(&mut buf).as_bytes();
            if !t[pos.min(t.len())..].starts_with(lit) {
                return Err(format!("expected {c:?} at position {pos} of {text:?}"));
            }
            pos += lit.len();
        }
    }
    if pos != t.len() {
        return Err(format!("unexpected text after position {pos} of {text:?}"));
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(format!("{text:?} is not a valid date and time"));
    }
    let days = days_from_civil(year, month, day);
    Ok(
        ((days * 24 + i64::from(hour)) * 60 + i64::from(minute)) * 60_000_000
            + i64::from(second) * 1_000_000
            + i64::from(micros),
    )
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A date part of an instant (microseconds since the epoch, UTC): `year`, `month`, `day`,
/// `weekday` (Monday = 0), `hour`, `minute`, `dayofyear` (1-based) or `epoch_days`.
pub fn date_part(part: &str, micros: i64) -> Option<f64> {
    let days = micros.div_euclid(86_400_000_000);
    let within = micros.rem_euclid(86_400_000_000);
    let (y, m, d) = mlship_core::time::civil_from_days(days);
    Some(match part {
        "year" => y as f64,
        "month" => f64::from(m),
        "day" => f64::from(d),
        "weekday" => (days + 3).rem_euclid(7) as f64,
        "hour" => (within / 3_600_000_000) as f64,
        "minute" => (within / 60_000_000 % 60) as f64,
        "dayofyear" => (days - days_from_civil(y, 1, 1) + 1) as f64,
        "epoch_days" => days as f64,
        _ => return None,
    })
}

/// The date parts [`date_part`] knows.
pub const DATE_PARTS: &[&str] = &[
    "year",
    "month",
    "day",
    "weekday",
    "hour",
    "minute",
    "dayofyear",
    "epoch_days",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_and_times() {
        assert_eq!(
            parse_datetime("%Y-%m-%d", "1970-01-02").unwrap(),
            86_400_000_000
        );
        let t = parse_datetime("%Y-%m-%d %H:%M:%S.%f", "2024-02-29 13:45:10.25").unwrap();
        assert_eq!(date_part("year", t), Some(2024.0));
        assert_eq!(date_part("month", t), Some(2.0));
        assert_eq!(date_part("day", t), Some(29.0));
        assert_eq!(date_part("hour", t), Some(13.0));
        assert_eq!(date_part("minute", t), Some(45.0));
        assert_eq!(date_part("dayofyear", t), Some(60.0));
        assert_eq!(date_part("weekday", t), Some(3.0)); // a Thursday
        assert_eq!(t % 1_000_000, 250_000);
        assert!(parse_datetime("%Y-%m-%d", "2023-02-29").is_err());
        assert!(parse_datetime("%Y-%m-%d", "2023-02-01x").is_err());
        assert!(parse_datetime("%d/%m/%Y", "2023-02-01").is_err());
        assert_eq!(
            parse_datetime("%d/%m/%Y", "01/02/2023").unwrap(),
            parse_datetime("%Y-%m-%d", "2023-02-01").unwrap()
        );
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }

    #[test]
    fn overrides_convert_or_name_the_row() {
        let c = RawColumn::categorical("n", [Some("1.5"), None, Some(" 2")]);
        let out = convert_column(c, &ColumnType::Numeric).unwrap();
        assert_eq!(out.data, ColumnData::Numeric(vec![1.5, 0.0, 2.0]));
        assert!(!out.is_valid(1));
        let c = RawColumn::categorical("n", [Some("1.5"), Some("x")]);
        let e = convert_column(c, &ColumnType::Numeric)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"n\"") && e.contains("row 1") && e.contains("\"x\""),
            "{e}"
        );
        let y = RawColumn::numeric("year", [Some(2007.0), Some(2008.0)]);
        let out = convert_column(y, &ColumnType::Categorical).unwrap();
        assert_eq!(out.value(0), mlship_core::batch::RawValue::Str("2007"));
        assert!(ColumnType::parse("d", "datetime:%Q").is_err());
        assert!(
            ColumnType::parse("d", "text")
                .unwrap_err()
                .to_string()
                .contains("read.types.d")
        );
    }
}
