//! PostgreSQL binary encodings `tokio-postgres` has no type for: ranges of any element type
//! (`int4range`, `int8range`, `numrange`), `interval`, and the raw bytes of any other column.

use std::error::Error;

use bytes::{Buf as _, BufMut as _, BytesMut};
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, Kind, ToSql, Type};

type Result<T> = std::result::Result<T, Box<dyn Error + Sync + Send>>;

const RANGE_EMPTY: u8 = 0x01;
const RANGE_LOWER_INCLUSIVE: u8 = 0x02;
const RANGE_UPPER_INCLUSIVE: u8 = 0x04;
const RANGE_LOWER_INFINITE: u8 = 0x08;
const RANGE_UPPER_INFINITE: u8 = 0x10;

/// One end of a range: its value and whether the range includes it.
pub(crate) type Bound<T> = (T, bool);

/// A range's lower and upper ends; a missing one is unbounded.
pub(crate) type Bounds<T> = (Option<Bound<T>>, Option<Bound<T>>);

/// A range value: `None` is the empty range.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Range<T>(pub(crate) Option<Bounds<T>>);

fn element_of(ty: &Type) -> Option<&Type> {
    match ty.kind() {
        Kind::Range(element) => Some(element),
        _ => None,
    }
}

impl<T: ToSql> ToSql for Range<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull> {
        let element = element_of(ty).ok_or("not a range type")?;
        let Some((lower, upper)) = &self.0 else {
            out.put_u8(RANGE_EMPTY);
            return Ok(IsNull::No);
        };
        let flag = |bound: &Option<Bound<T>>, inclusive: u8, infinite: u8| match bound {
            None => infinite,
            Some((_, true)) => inclusive,
            Some((_, false)) => 0,
        };
        out.put_u8(
            flag(lower, RANGE_LOWER_INCLUSIVE, RANGE_LOWER_INFINITE)
                | flag(upper, RANGE_UPPER_INCLUSIVE, RANGE_UPPER_INFINITE),
        );
        for (value, _) in [lower, upper].into_iter().flatten() {
            let at = out.len();
            out.put_i32(0);
            if let IsNull::Yes = value.to_sql(element, out)? {
                return Err("a range bound cannot be null".into());
            }
            let length = i32::try_from(out.len() - at - 4)?;
            out[at..at + 4].copy_from_slice(&length.to_be_bytes());
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        element_of(ty).is_some_and(T::accepts)
    }

    to_sql_checked!();
}

impl<'a, T: FromSql<'a>> FromSql<'a> for Range<T> {
    fn from_sql(ty: &Type, mut raw: &'a [u8]) -> Result<Self> {
        let element = element_of(ty).ok_or("not a range type")?;
        let flags = *raw.first().ok_or("an empty range value")?;
        raw = &raw[1..];
        if flags & RANGE_EMPTY != 0 {
            return Ok(Range(None));
        }
        let mut bound = |infinite: u8, inclusive: u8| -> Result<Option<Bound<T>>> {
            if flags & infinite != 0 {
                return Ok(None);
            }
            if raw.len() < 4 {
                return Err("a truncated range bound".into());
            }
            let length = usize::try_from(raw.get_i32())?;
            let (value, rest) = raw
                .split_at_checked(length)
                .ok_or("a truncated range bound")?;
            raw = rest;
            Ok(Some((T::from_sql(element, value)?, flags & inclusive != 0)))
        };
        let lower = bound(RANGE_LOWER_INFINITE, RANGE_LOWER_INCLUSIVE)?;
        let upper = bound(RANGE_UPPER_INFINITE, RANGE_UPPER_INCLUSIVE)?;
        Ok(Range(Some((lower, upper))))
    }

    fn accepts(ty: &Type) -> bool {
        element_of(ty).is_some_and(T::accepts)
    }
}

/// An `interval`: months, days and microseconds, kept apart as PostgreSQL keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interval {
    pub(crate) micros: i64,
    pub(crate) days: i32,
    pub(crate) months: i32,
}

impl ToSql for Interval {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull> {
        out.put_i64(self.micros);
        out.put_i32(self.days);
        out.put_i32(self.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Interval {
    fn from_sql(_: &Type, mut raw: &'a [u8]) -> Result<Self> {
        if raw.len() != 16 {
            return Err("an interval is 16 bytes".into());
        }
        Ok(Interval {
            micros: raw.get_i64(),
            days: raw.get_i32(),
            months: raw.get_i32(),
        })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

/// A column value's bytes as the server sent them, for types kiln does not decode.
pub(crate) struct Raw(pub(crate) Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self> {
        Ok(Raw(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A SQL `NULL` of whatever type the statement wants.
#[derive(Debug)]
pub(crate) struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T>(value: T, ty: &Type) -> T
    where
        T: ToSql + for<'a> FromSql<'a>,
    {
        let mut bytes = BytesMut::new();
        value.to_sql(ty, &mut bytes).unwrap();
        T::from_sql(ty, &bytes).unwrap()
    }

    #[test]
    fn ranges_and_intervals_survive_their_encoding() {
        for range in [
            Range(None),
            Range(Some((Some((1, true)), Some((5, false))))),
            Range(Some((None, Some((9, true))))),
            Range(Some((Some((-3, false)), None))),
            Range(Some((None, None))),
        ] {
            assert_eq!(round_trip(range.clone(), &Type::INT4_RANGE), range);
        }
        let wide = Range(Some((Some((i64::MIN, true)), Some((i64::MAX, false)))));
        assert_eq!(round_trip(wide.clone(), &Type::INT8_RANGE), wide);
        let interval = Interval {
            micros: -1,
            days: 2,
            months: 14,
        };
        assert_eq!(round_trip(interval, &Type::INTERVAL), interval);
    }

    #[test]
    fn truncated_values_are_errors() {
        assert!(Range::<i32>::from_sql(&Type::INT4_RANGE, &[RANGE_UPPER_INFINITE, 0, 0]).is_err());
        assert!(Interval::from_sql(&Type::INTERVAL, &[0; 8]).is_err());
    }
}
