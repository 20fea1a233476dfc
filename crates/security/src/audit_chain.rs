//! Tamper-evident audit log: every record carries `SM3(prev_hash ‖ canonical record)` (GB/T 32905-2016), chained
//! to the record before it, so that altering, deleting, inserting or reordering a record breaks the chain at that
//! point (GB/T 22239-2019 8.1.4.3 c: audit records protected from unexpected deletion, modification or
//! overwriting).
//!
//! * The first record of a log has `prev_hash = `[`GENESIS`].
//! * The canonical record ([`canonical`]) must include the record's id and time, so that neither can be changed.
//! * Purging records older than the retention period: store the first kept record's `prev_hash` (the hash of the
//!   last purged record, [`purge_anchor`]) apart from the log, and record the purge itself in the log. The rest then
//!   verifies from that anchor.
//! * The chain is unkeyed: someone able to rewrite every record from some point on, and recompute every hash, is not
//!   detected by the chain alone. Keep the head hash ([`ChainSummary::head`]) somewhere they cannot reach (a
//!   periodic checkpoint in the operations log or on paper) and compare; the same catches truncation of the tail.

use crate::digest::sm3_hex;

/// `prev_hash` of the first record of a log: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const CANONICAL_MAGIC: &[u8] = b"DJAUDIT1";

/// Canonical bytes of a record: a magic string, the number of fields, then for each field its name and value, each
/// preceded by its length as a big-endian u64. Field boundaries cannot be forged (`("a", "bc")` and `("ab", "c")`
/// differ). Give the fields in a fixed order, the record's id and time among them.
pub fn canonical(fields: &[(&str, &str)]) -> Vec<u8> {
    let size = CANONICAL_MAGIC.len() + 8 + fields.iter().map(|(n, v)| 16 + n.len() + v.len()).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(CANONICAL_MAGIC);
    out.extend_from_slice(&(fields.len() as u64).to_be_bytes());
    for (name, value) in fields {
        for part in [name, value] {
            out.extend_from_slice(&(part.len() as u64).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
    }
    out
}

/// The hash a record stores: SM3 over the previous record's hash (its 64 lowercase hex characters, as ASCII)
/// followed by the canonical record, as 64 lowercase hex characters (GB/T 32905-2016).
pub fn chain_hash(prev_hash_hex: &str, canonical_record: &[u8]) -> String {
    let mut input = Vec::with_capacity(prev_hash_hex.len() + canonical_record.len());
    input.extend_from_slice(prev_hash_hex.as_bytes());
    input.extend_from_slice(canonical_record);
    sm3_hex(&input)
}

/// One stored record as the verifier reads it, in id order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainLink<'a> {
    pub id: i64,
    pub prev_hash: &'a str,
    pub record: &'a [u8],
    pub hash: &'a str,
}

/// The anchor to store when purging every record before `first_kept`: its `prev_hash`, i.e. the hash of the last
/// purged record.
pub fn purge_anchor(first_kept: &ChainLink<'_>) -> String {
    first_kept.prev_hash.to_owned()
}

/// Why the chain breaks at a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreakReason {
    #[error("its id is not greater than the id before it ({previous_id}): records were reordered")]
    OutOfOrder { previous_id: i64 },
    #[error("its previous hash {found} is not the hash {expected} of the record before it: a record was deleted, inserted or moved")]
    PrevMismatch { expected: String, found: String },
    #[error("its content hashes to {computed}, not to its stored hash {stored}: the record was altered")]
    HashMismatch { computed: String, stored: String },
    #[error("its stored hash is not 64 lowercase hex characters")]
    MalformedHash,
}

/// The first record at which the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at record {id}: {reason}")]
pub struct BrokenAt {
    pub id: i64,
    pub reason: BreakReason,
}

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSummary {
    /// Number of records verified.
    pub records: u64,
    /// Id of the first and last record verified, if any.
    pub first_id: Option<i64>,
    pub last_id: Option<i64>,
    /// Hash of the last record (the anchor when there were none), to compare with an external checkpoint.
    pub head: String,
}

/// `audit verify`: checks that `links`, in id order, form a chain starting from `anchor` ([`GENESIS`] for a log
/// that was never purged, else the stored purge anchor). Returns the first broken record, or a summary whose `head`
/// can be compared with a checkpoint.
pub fn verify_chain<'a>(
    anchor: &str,
    links: impl IntoIterator<Item = ChainLink<'a>>,
) -> Result<ChainSummary, BrokenAt> {
    let mut expected_prev = anchor.to_owned();
    let mut previous_id: Option<i64> = None;
    let mut summary = ChainSummary { records: 0, first_id: None, last_id: None, head: anchor.to_owned() };
    for link in links {
        let broken = |reason| BrokenAt { id: link.id, reason };
        if let Some(previous_id) = previous_id.filter(|p| link.id <= *p) {
            return Err(broken(BreakReason::OutOfOrder { previous_id }));
        }
        if link.prev_hash != expected_prev {
            return Err(broken(BreakReason::PrevMismatch {
                expected: expected_prev,
                found: link.prev_hash.to_owned(),
            }));
        }
        if !is_hash_hex(link.hash) {
            return Err(broken(BreakReason::MalformedHash));
        }
        let computed = chain_hash(link.prev_hash, link.record);
        if computed != link.hash {
            return Err(broken(BreakReason::HashMismatch { computed, stored: link.hash.to_owned() }));
        }
        previous_id = Some(link.id);
        expected_prev = computed;
        summary.records += 1;
        summary.first_id = summary.first_id.or(Some(link.id));
        summary.last_id = Some(link.id);
    }
    summary.head = expected_prev;
    Ok(summary)
}

fn is_hash_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    struct Row {
        id: i64,
        prev_hash: String,
        record: Vec<u8>,
        hash: String,
    }

    fn record(id: i64, action: &str) -> Vec<u8> {
        canonical(&[
            ("id", &id.to_string()),
            ("at", "2025-07-01T08:00:00+08:00"),
            ("actor", "admin"),
            ("action", action),
        ])
    }

    fn log(n: i64) -> Vec<Row> {
        let mut rows: Vec<Row> = Vec::new();
        for id in 1..=n {
            let prev_hash = rows.last().map_or(GENESIS.to_owned(), |r| r.hash.clone());
            let record = record(id, &format!("instructor.update #{id}"));
            let hash = chain_hash(&prev_hash, &record);
            rows.push(Row { id, prev_hash, record, hash });
        }
        rows
    }

    fn links(rows: &[Row]) -> Vec<ChainLink<'_>> {
        rows.iter().map(|r| ChainLink { id: r.id, prev_hash: &r.prev_hash, record: &r.record, hash: &r.hash }).collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let rows = log(6);
        let summary = verify_chain(GENESIS, links(&rows)).unwrap();
        assert_eq!(summary.records, 6);
        assert_eq!((summary.first_id, summary.last_id), (Some(1), Some(6)));
        assert_eq!(summary.head, rows[5].hash);
        let empty = verify_chain(GENESIS, Vec::new()).unwrap();
        assert_eq!((empty.records, empty.head.as_str()), (0, GENESIS));
    }

    #[test]
    fn an_altered_record_is_named() {
        let mut rows = log(6);
        rows[2].record = record(3, "instructor.delete #3");
        let broken = verify_chain(GENESIS, links(&rows)).unwrap_err();
        assert_eq!(broken.id, 3);
        assert!(matches!(broken.reason, BreakReason::HashMismatch { .. }));
        assert!(broken.to_string().starts_with("audit chain broken at record 3: "), "{broken}");
    }

    #[test]
    fn an_altered_record_with_a_recomputed_hash_breaks_the_next_link() {
        let mut rows = log(6);
        rows[2].record = record(3, "instructor.delete #3");
        rows[2].hash = chain_hash(&rows[2].prev_hash, &rows[2].record);
        let broken = verify_chain(GENESIS, links(&rows)).unwrap_err();
        assert_eq!(broken.id, 4);
        assert!(matches!(broken.reason, BreakReason::PrevMismatch { .. }));
    }

    #[test]
    fn a_deleted_record_is_detected_at_the_next_one() {
        let mut rows = log(6);
        rows.remove(3);
        let broken = verify_chain(GENESIS, links(&rows)).unwrap_err();
        assert_eq!(broken.id, 5);
        assert!(matches!(broken.reason, BreakReason::PrevMismatch { .. }));
        let mut first_gone = log(3);
        first_gone.remove(0);
        assert_eq!(verify_chain(GENESIS, links(&first_gone)).unwrap_err().id, 2);
    }

    #[test]
    fn reordering_is_detected() {
        let rows = log(6);
        let mut reordered = links(&rows);
        reordered.swap(2, 3);
        let broken = verify_chain(GENESIS, reordered).unwrap_err();
        assert_eq!(broken.id, 4);
        assert!(matches!(broken.reason, BreakReason::PrevMismatch { .. }));

        // Contents swapped between ids 3 and 4, ids left in order.
        let mut swapped = log(6);
        let (a, b) = swapped.split_at_mut(3);
        std::mem::swap(&mut a[2].record, &mut b[0].record);
        std::mem::swap(&mut a[2].prev_hash, &mut b[0].prev_hash);
        std::mem::swap(&mut a[2].hash, &mut b[0].hash);
        assert_eq!(verify_chain(GENESIS, links(&swapped)).unwrap_err().id, 3);

        // Ids going backwards.
        let rows = log(3);
        let mut backwards = links(&rows);
        backwards[2].id = 1;
        let broken = verify_chain(GENESIS, backwards).unwrap_err();
        assert_eq!(broken, BrokenAt { id: 1, reason: BreakReason::OutOfOrder { previous_id: 2 } });
    }

    #[test]
    fn malformed_stored_hash_is_named() {
        let mut rows = log(2);
        rows[1].hash = rows[1].hash.to_uppercase();
        let broken = verify_chain(GENESIS, links(&rows)).unwrap_err();
        assert_eq!(broken, BrokenAt { id: 2, reason: BreakReason::MalformedHash });
    }

    #[test]
    fn purge_with_anchor_keeps_the_rest_verifiable() {
        let rows = log(8);
        let kept = &rows[3..];
        let anchor = purge_anchor(&links(kept)[0]);
        assert_eq!(anchor, rows[2].hash);
        let summary = verify_chain(&anchor, links(kept)).unwrap();
        assert_eq!((summary.records, summary.first_id), (5, Some(4)));
        assert_eq!(summary.head, rows[7].hash);
        let broken = verify_chain(GENESIS, links(kept)).unwrap_err();
        assert_eq!(broken.id, 4);
        let mut tampered: Vec<ChainLink<'_>> = links(kept);
        tampered.remove(0);
        assert_eq!(verify_chain(&anchor, tampered).unwrap_err().id, 5);
    }

    #[test]
    fn canonical_encoding_keeps_field_boundaries() {
        assert_ne!(canonical(&[("a", "bc")]), canonical(&[("ab", "c")]));
        assert_ne!(canonical(&[("a", "b"), ("c", "d")]), canonical(&[("a", "b\u{0}\u{0}c"), ("", "d")]));
        assert_ne!(canonical(&[("a", "")]), canonical(&[("a", ""), ("", "")]));
        assert_ne!(canonical(&[]), canonical(&[("", "")]));
        let bytes = canonical(&[("k", "值")]);
        assert_eq!(&bytes[..8], b"DJAUDIT1");
        assert_eq!(bytes.len(), 8 + 8 + 8 + 1 + 8 + 3);
    }

    #[test]
    fn chain_hash_is_sm3_of_prev_then_record() {
        assert_eq!(chain_hash("", b"abc"), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
        assert_eq!(chain_hash("ab", b"c"), chain_hash("", b"abc"));
        assert_ne!(chain_hash(GENESIS, b"x"), chain_hash(GENESIS, b"y"));
    }
}
