//! Bit-exact serde for the `f64` fields of a sketch.
//!
//! `serde_json`'s default float parser may be one unit in the last place off (its
//! `float_roundtrip` feature is not enabled in this workspace), and JSON has no infinities or
//! NaN. Sketch state must survive a round trip exactly — bundles are compared byte for byte and
//! sketches are merged after loading — so in human-readable formats (JSON) a float is written as
//! a string holding Rust's shortest round-trip representation (`"0.1"`, `"-3.5e-300"`, `"inf"`,
//! `"NaN"`) and parsed back with the correctly rounded `str::parse`. Numbers are accepted on
//! input too. Binary formats (postcard) store the `f64` itself.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

/// Serialises `x` exactly (see the module documentation).
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `with` calls this with a reference
pub(crate) fn serialize<S: Serializer>(x: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if serializer.is_human_readable() {
        serializer.collect_str(&format_args!("{x:?}"))
    } else {
        serializer.serialize_f64(*x)
    }
}

/// Reads a value written by [`serialize`] (or a plain number).
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    if deserializer.is_human_readable() {
        deserializer.deserialize_any(F64Visitor)
    } else {
        deserializer.deserialize_f64(F64Visitor)
    }
}

struct F64Visitor;

impl Visitor<'_> for F64Visitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a string holding a number")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_f32<E: de::Error>(self, v: f32) -> Result<f64, E> {
        Ok(f64::from(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        v.parse::<f64>()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        x: f64,
    }

    #[test]
    fn json_round_trip_is_bit_exact() {
        let mut state = 7u64;
        for _ in 0..20_000 {
            let bits = crate::rng::splitmix64(&mut state);
            let x = f64::from_bits(bits);
            let json = serde_json::to_string(&Holder { x }).unwrap_or_default();
            let back: Holder = serde_json::from_str(&json).unwrap_or(Holder { x: 0.5 });
            assert!(
                back.x.to_bits() == x.to_bits() || (x.is_nan() && back.x.is_nan()),
                "{x:?} became {:?} via {json}",
                back.x
            );
        }
        for x in [
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            f64::MIN_POSITIVE,
            5e-324,
        ] {
            let json = serde_json::to_string(&Holder { x }).unwrap_or_default();
            let back: Holder = serde_json::from_str(&json).unwrap_or(Holder { x: 0.5 });
            assert_eq!(back.x.to_bits(), x.to_bits());
        }
    }

    #[test]
    fn plain_numbers_and_garbage() {
        let h: Holder = serde_json::from_str(r#"{"x": 2.5}"#).unwrap_or(Holder { x: 0.0 });
        assert_eq!(h.x, 2.5);
        let h: Holder = serde_json::from_str(r#"{"x": -3}"#).unwrap_or(Holder { x: 0.0 });
        assert_eq!(h.x, -3.0);
        assert!(serde_json::from_str::<Holder>(r#"{"x": "pi"}"#).is_err());
        assert!(serde_json::from_str::<Holder>(r#"{"x": null}"#).is_err());
    }
}
