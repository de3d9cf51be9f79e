//! A stable 64-bit content hash (FNV-1a) of a row's content columns. Re-importing a file compares
//! each row's hash with the stored one, so unchanged rows cost no write; the hash must never change
//! between versions of the program, which is why it is not `std`'s hasher.

use crate::bulk::ValueRef;
use crate::db::Value;

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0100_0000_01b3;

/// FNV-1a over a sequence of values, with a type tag or separator per value.
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv::new()
    }
}

impl Fnv {
    /// A fresh hash.
    pub fn new() -> Fnv {
        Fnv(OFFSET)
    }
    fn feed(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }
    fn int(&mut self, x: Option<i64>) {
        let mut out = [0u8; 9];
        if let Some(v) = x {
            out[0] = 1;
            out[1..].copy_from_slice(&v.to_le_bytes());
        }
        self.feed(&out);
    }
    /// Adds one value.
    pub fn value(&mut self, v: ValueRef<'_>) {
        match v {
            ValueRef::I16(x) => self.int(x.map(i64::from)),
            ValueRef::I32(x) => self.int(x.map(i64::from)),
            ValueRef::I64(x) => self.int(x),
            ValueRef::Bool(x) => self.feed(&[match x {
                None => 2,
                Some(true) => 1,
                Some(false) => 0,
            }]),
            ValueRef::Text(None) => self.feed(&[0xff]),
            ValueRef::Text(Some(s)) => {
                self.feed(&[0xfe]);
                self.feed(s.as_bytes());
            }
            ValueRef::Date(x) => {
                let days = x.map(|d| i64::from(chrono::Datelike::num_days_from_ce(&d)));
                self.int(days)
            }
            ValueRef::Ts(x) => self.int(x.map(|d| d.timestamp())),
            ValueRef::F64(x) => self.int(x.map(|f| f.to_bits() as i64)),
            ValueRef::Bytes(None) => self.feed(&[0xff]),
            ValueRef::Bytes(Some(b)) => {
                self.feed(&[0xfd]);
                self.feed(b);
            }
        }
        self.feed(&[0x1f]);
    }
    /// The hash.
    pub fn finish(&self) -> i64 {
        self.0 as i64
    }
}

fn as_ref(v: &Value) -> ValueRef<'_> {
    match v {
        Value::I16(x) => ValueRef::I16(*x),
        Value::I32(x) => ValueRef::I32(*x),
        Value::I64(x) => ValueRef::I64(*x),
        Value::Bool(x) => ValueRef::Bool(*x),
        Value::Text(x) => ValueRef::Text(x.as_deref()),
        Value::Date(x) => ValueRef::Date(*x),
        Value::Ts(x) => ValueRef::Ts(*x),
        Value::F64(x) => ValueRef::F64(*x),
        Value::Bytes(x) => ValueRef::Bytes(x.as_deref()),
    }
}

/// FNV-1a over owned values (the same hash [`Fnv`] gives the borrowed ones).
pub fn hash_values<'a>(values: impl IntoIterator<Item = &'a Value>) -> i64 {
    let mut h = Fnv::new();
    for v in values {
        h.value(as_ref(v));
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_pinned_and_separates_fields() {
        // Pinned: stored hashes must keep matching after upgrades.
        let v = [
            Value::from("张三"),
            Value::from(1i64),
            Value::Bool(Some(true)),
            Value::Text(None),
        ];
        assert_eq!(
            hash_values(&v),
            0x70c5_16d7_bbb7_e175_u64 as i64,
            "{:x}",
            hash_values(&v)
        );
        assert_eq!(hash_values(&[]), OFFSET as i64);
        assert_ne!(
            hash_values(&[Value::from("ab"), Value::from("c")]),
            hash_values(&[Value::from("a"), Value::from("bc")])
        );
        assert_ne!(
            hash_values(&[Value::Text(None)]),
            hash_values(&[Value::from("")])
        );
    }
}
