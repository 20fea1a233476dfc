//! The first few of a long list, in bounded memory: how an import reports its errors. A file of a
//! hundred thousand bad rows yields the first [`MAX_REPORTED_ERRORS`] errors by position and the count
//! of all of them, never the whole list.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// How many errors an import reports; the rest are counted.
pub const MAX_REPORTED_ERRORS: usize = 1000;

/// The `cap` smallest items by key (first in file order, for errors keyed by row and column) of any
/// number pushed, and how many were pushed. Items with equal keys keep the order they came in.
#[derive(Debug, Clone)]
pub struct Firsts<K: Ord, T> {
    cap: usize,
    total: usize,
    seq: usize,
    heap: BinaryHeap<Entry<K, T>>,
}

#[derive(Debug, Clone)]
struct Entry<K, T> {
    key: K,
    seq: usize,
    item: T,
}

impl<K: Ord, T> PartialEq for Entry<K, T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<K: Ord, T> Eq for Entry<K, T> {}

impl<K: Ord, T> PartialOrd for Entry<K, T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K: Ord, T> Ord for Entry<K, T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (&self.key, self.seq).cmp(&(&other.key, other.seq))
    }
}

impl<K: Ord, T> Firsts<K, T> {
    pub fn new(cap: usize) -> Self {
        Self { cap, total: 0, seq: 0, heap: BinaryHeap::new() }
    }

    /// Counts `item` and keeps it if it is among the first `cap` so far.
    pub fn push(&mut self, key: K, item: T) {
        self.total += 1;
        self.seq += 1;
        if self.cap == 0 {
            return;
        }
        if self.heap.len() == self.cap {
            match self.heap.peek() {
                Some(last) if (&key, self.seq) < (&last.key, last.seq) => {
                    self.heap.pop();
                }
                _ => return,
            }
        }
        self.heap.push(Entry { key, seq: self.seq, item });
    }

    /// Counts `n` more items without keeping any (items another list counted but did not keep).
    pub fn count_more(&mut self, n: usize) {
        self.total += n;
    }

    /// How many items were pushed, kept or not.
    pub fn total(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Takes in everything `other` kept and counted (the first `cap` of both lists together stay).
    pub fn merge(&mut self, other: Firsts<K, T>) {
        let counted = other.total;
        let kept = other.heap.len();
        for e in other.heap.into_sorted_vec() {
            self.push(e.key, e.item);
        }
        self.total += counted - kept;
    }

    /// The kept items, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.heap.iter().map(|e| &e.item)
    }

    /// The kept items, first first.
    pub fn into_sorted(self) -> Vec<T> {
        self.heap.into_sorted_vec().into_iter().map(|e| e.item).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_by_key_and_counts_all() {
        let mut f = Firsts::new(3);
        for (k, v) in [(5, "e"), (1, "a"), (9, "i"), (3, "c"), (1, "a2"), (7, "g")] {
            f.push(k, v);
        }
        assert_eq!(f.total(), 6);
        assert_eq!(f.into_sorted(), vec!["a", "a2", "c"]);
    }

    #[test]
    fn equal_keys_keep_their_order() {
        let mut f = Firsts::new(10);
        for v in ["x", "y", "z"] {
            f.push(1, v);
        }
        assert_eq!(f.into_sorted(), vec!["x", "y", "z"]);
    }

    #[test]
    fn merging_keeps_the_first_of_both_and_adds_the_counts() {
        let mut a = Firsts::new(2);
        let mut b = Firsts::new(2);
        for k in [4, 8, 6] {
            a.push(k, k);
        }
        for k in [1, 9, 5, 7] {
            b.push(k, k);
        }
        a.merge(b);
        assert_eq!(a.total(), 7);
        assert_eq!(a.into_sorted(), vec![1, 4]);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut f = Firsts::new(MAX_REPORTED_ERRORS);
        for k in (0..100_000).rev() {
            f.push(k, ());
        }
        assert_eq!(f.total(), 100_000);
        assert_eq!(f.heap.len(), MAX_REPORTED_ERRORS);
        assert_eq!(f.heap.peek().map(|e| e.key), Some(MAX_REPORTED_ERRORS - 1));
    }

    #[test]
    fn a_cap_of_zero_only_counts() {
        let mut f = Firsts::new(0);
        f.push(1, 1);
        assert_eq!((f.total(), f.into_sorted()), (1, vec![]));
    }
}
