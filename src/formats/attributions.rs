//! The matrix's kept attributions as bytes: what a server stores in
//! `matrix_copy` so that the next server to start reads them back instead
//! of attributing every coding again.
//!
//! Layout (all integers LEB128 varints, signed ones zig-zag encoded):
//! the magic `PMA1`, the number of documents, then per document its id and
//! number of rows, and per row the coding id as the difference from the
//! row before (signed), the code, the coder, the participant plus one (0
//! for Unassigned) and the words. About 9 bytes a row.

use crate::domain::matrix::Attributed;

const MAGIC: &[u8; 4] = b"PMA1";

fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_signed(out: &mut Vec<u8>, v: i64) {
    put(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Encode documents' attributions (`(document, rows)`), in any order.
pub fn encode<'a>(docs: impl ExactSizeIterator<Item = (i64, &'a [Attributed])>) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + docs.len() * 8);
    out.extend_from_slice(MAGIC);
    put(&mut out, docs.len() as u64);
    for (doc, rows) in docs {
        put_signed(&mut out, doc);
        put(&mut out, rows.len() as u64);
        let mut previous = 0i64;
        for r in rows {
            put_signed(&mut out, r.coding.wrapping_sub(previous));
            previous = r.coding;
            put_signed(&mut out, r.code);
            put_signed(&mut out, r.coder);
            put_signed(&mut out, r.participant.map_or(0, |p| p.wrapping_add(1)));
            put_signed(&mut out, r.words);
        }
    }
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn get(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.at)?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn get_signed(&mut self) -> Option<i64> {
        let v = self.get()?;
        Some(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// A count of items that each take at least `min_bytes`: refused when
    /// the bytes left could not hold them (no allocation from a bad count).
    fn count(&mut self, min_bytes: usize) -> Option<usize> {
        let n = usize::try_from(self.get()?).ok()?;
        (n.checked_mul(min_bytes)? <= self.bytes.len() - self.at).then_some(n)
    }
}

/// Decode what [`encode`] wrote; `None` for anything else (a damaged or
/// foreign value is never trusted in part).
pub fn decode(bytes: &[u8]) -> Option<Vec<(i64, Vec<Attributed>)>> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let mut r = Reader { bytes: rest, at: 0 };
    let n = r.count(2)?;
    let mut docs = Vec::with_capacity(n);
    for _ in 0..n {
        let doc = r.get_signed()?;
        let rows = r.count(5)?;
        let mut list = Vec::with_capacity(rows);
        let mut previous = 0i64;
        for _ in 0..rows {
            let coding = previous.wrapping_add(r.get_signed()?);
            previous = coding;
            let code = r.get_signed()?;
            let coder = r.get_signed()?;
            let participant = match r.get_signed()? {
                0 => None,
                p => Some(p.wrapping_sub(1)),
            };
            let words = r.get_signed()?;
            list.push(Attributed {
                coding,
                code,
                coder,
                participant,
                words,
            });
        }
        docs.push((doc, list));
    }
    (r.at == r.bytes.len()).then_some(docs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn row(coding: i64, participant: Option<i64>) -> Attributed {
        Attributed {
            coding,
            code: 7,
            coder: 2,
            participant,
            words: 12,
        }
    }

    #[test]
    fn round_trip_keeps_every_row_and_unassigned() {
        let a = vec![row(10, Some(1)), row(10, Some(2)), row(11, None)];
        let b = vec![row(5, Some(0))];
        let bytes = encode([(1, a.as_slice()), (9, b.as_slice())].into_iter());
        let back = decode(&bytes).expect("decodes");
        assert_eq!(back, vec![(1, a), (9, b)]);
        // A participant with id 0 is not Unassigned.
        assert_eq!(back[1].1[0].participant, Some(0));
    }

    #[test]
    fn damaged_or_foreign_bytes_are_refused() {
        let a = vec![row(10, Some(1)), row(12, None)];
        let bytes = encode([(1, a.as_slice())].into_iter());
        assert!(decode(&bytes[..bytes.len() - 1]).is_none(), "cut short");
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_none(), "trailing bytes");
        assert!(decode(b"PMA0\x00").is_none(), "other magic");
        assert!(decode(b"").is_none());
        // A count far beyond the bytes is refused before allocating.
        assert!(decode(b"PMA1\xff\xff\xff\xff\xff\xff\xff\x7f").is_none());
        // An endless varint.
        assert!(
            decode(&[
                b'P', b'M', b'A', b'1', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff
            ])
            .is_none()
        );
    }

    proptest! {
        #[test]
        fn any_attributions_round_trip(
            docs in prop::collection::vec(
                (any::<i64>(), prop::collection::vec(
                    (any::<i64>(), any::<i64>(), any::<i64>(), prop::option::of(any::<i64>()), any::<i64>()),
                    0..20)),
                0..8)
        ) {
            let docs: Vec<(i64, Vec<Attributed>)> = docs
                .into_iter()
                .map(|(d, rows)| (d, rows.into_iter().map(|(coding, code, coder, participant, words)| Attributed {
                    coding, code, coder,
                    // -1 + 1 would be 0, Unassigned's mark: not an id PostgreSQL gives.
                    participant: participant.filter(|p| *p != -1),
                    words,
                }).collect()))
                .collect();
            let bytes = encode(docs.iter().map(|(d, r)| (*d, r.as_slice())));
            prop_assert_eq!(decode(&bytes), Some(docs));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let mut with_magic = b"PMA1".to_vec();
            with_magic.extend_from_slice(&bytes);
            let _ = decode(&with_magic);
            let _ = decode(&bytes);
        }
    }
}
