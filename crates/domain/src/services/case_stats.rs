//! Case statistics (issue part 7) as plain functions over plain numbers: the additive counts every
//! grouping is summed from, percentiles of durations, and satisfaction from the ratings. The store
//! feeds them; nothing personal (description, contact, notes) ever reaches them.
//!
//! **Percentiles are nearest-rank** (the definition in NIST's Engineering Statistics Handbook and
//! ISO 16269-4's "empirical quantile" without interpolation): the p-th percentile of n sorted values is
//! the value at rank ⌈p/100 · n⌉ (1-based, at least 1). It is always one of the observed durations,
//! needs no interpolation between two cases, and is the same on every database.

use serde::Serialize;

/// Seconds in an hour, for durations shown in hours.
const HOUR: f64 = 3600.0;

/// The nearest-rank `p`-th percentile (0 < p ≤ 100) of `sorted` (ascending); `None` when empty.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() || !(p > 0.0 && p <= 100.0) {
        return None;
    }
    sorted.get(rank(p, sorted.len()) - 1).copied()
}

/// How long something took, over the cases where it happened: how many, the median and the 90th
/// percentile in hours (nearest-rank).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DurationSummary {
    pub count: i64,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

/// The 1-based nearest rank of the `p`-th percentile among `n` values (`n` ≥ 1).
fn rank(p: f64, n: usize) -> usize {
    (((p / 100.0) * n as f64).ceil() as usize).clamp(1, n)
}

/// The summary of durations in seconds. The slice is reordered: the two ranks are found by selection
/// (linear time) rather than a full sort, which matters for a million cases; the values are those
/// [`percentile`] gives on the sorted durations.
pub fn summarize(seconds: &mut [i64]) -> DurationSummary {
    let n = seconds.len();
    if n == 0 {
        return DurationSummary::default();
    }
    let (i50, i90) = (rank(50.0, n) - 1, rank(90.0, n) - 1);
    let (_, median, _) = seconds.select_nth_unstable(i50);
    let median = *median;
    // p90's rank is at least the median's, so it lies in the part right of (or at) it: selecting there
    // looks at half the values rather than nine tenths.
    let p90 = match seconds.get_mut(i50 + 1..) {
        Some(right) if i90 > i50 => *right.select_nth_unstable(i90 - i50 - 1).1,
        _ => median,
    };
    let hours = |s: i64| Some(s as f64 / HOUR);
    DurationSummary { count: n as i64, median_hours: hours(median), p90_hours: hours(p90) }
}

/// The workers' ratings (1–5) of the outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Satisfaction {
    /// Cases rated.
    pub rated: i64,
    /// The mean rating; `None` when nothing was rated.
    pub mean: Option<f64>,
    /// How many ratings of 1, 2, 3, 4 and 5.
    pub distribution: Vec<i64>,
    /// The share (0–1) of ratings of 4 or 5 ("satisfied"); `None` when nothing was rated.
    pub share_satisfied: Option<f64>,
}

/// Satisfaction from the number of ratings of 1 to 5.
pub fn satisfaction(distribution: [i64; 5]) -> Satisfaction {
    let rated: i64 = distribution.iter().sum();
    let points: i64 = distribution.iter().zip(1..).map(|(n, r)| n * r).sum();
    let ratio = |x: i64| (rated > 0).then(|| x as f64 / rated as f64);
    Satisfaction {
        rated,
        mean: ratio(points),
        distribution: distribution.to_vec(),
        share_satisfied: ratio(distribution[3] + distribution[4]),
    }
}

/// The additive part of a group's figures: counted case by case (in SQL) and summed over groups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseCounts {
    pub cases: i64,
    /// Submitted or acknowledged.
    pub open: i64,
    /// Resolved or closed.
    pub resolved: i64,
    pub closed: i64,
    /// Open and past the deadline stored for its current step.
    pub overdue: i64,
    /// Escalated at least once.
    pub escalated: i64,
    /// Ratings of 1 to 5.
    pub ratings: [i64; 5],
}

impl CaseCounts {
    pub fn add(&mut self, o: &CaseCounts) {
        self.cases += o.cases;
        self.open += o.open;
        self.resolved += o.resolved;
        self.closed += o.closed;
        self.overdue += o.overdue;
        self.escalated += o.escalated;
        for (a, b) in self.ratings.iter_mut().zip(o.ratings) {
            *a += b;
        }
    }
}

/// The figures of one group of cases (or of all of them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseFigures {
    pub cases: i64,
    pub open: i64,
    pub resolved: i64,
    pub closed: i64,
    pub overdue: i64,
    pub escalated: i64,
    /// Acknowledged minus filed, over the acknowledged cases.
    pub to_acknowledge: DurationSummary,
    /// Resolved minus filed, over the resolved (and closed) cases.
    pub to_resolve: DurationSummary,
    pub satisfaction: Satisfaction,
}

/// A group's figures from its counts and the durations (seconds) of its cases.
pub fn figures(counts: &CaseCounts, ack_seconds: &mut [i64], resolve_seconds: &mut [i64]) -> CaseFigures {
    CaseFigures {
        cases: counts.cases,
        open: counts.open,
        resolved: counts.resolved,
        closed: counts.closed,
        overdue: counts.overdue,
        escalated: counts.escalated,
        to_acknowledge: summarize(ack_seconds),
        to_resolve: summarize(resolve_seconds),
        satisfaction: satisfaction(counts.ratings),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 50.0), Some(7));
        assert_eq!(percentile(&[7], 90.0), Some(7));
        // Ten values: the median is the 5th, p90 the 9th, p100 the last; p1 the first.
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&ten, 50.0), Some(5));
        assert_eq!(percentile(&ten, 90.0), Some(9));
        assert_eq!(percentile(&ten, 100.0), Some(10));
        assert_eq!(percentile(&ten, 1.0), Some(1));
        // Two values: the median is the lower one (no interpolation).
        assert_eq!(percentile(&[10, 20], 50.0), Some(10));
        // Eleven values: p90 is rank ⌈9.9⌉ = 10.
        let eleven: Vec<i64> = (1..=11).collect();
        assert_eq!(percentile(&eleven, 90.0), Some(10));
        // Ties: the value itself, whichever copy.
        assert_eq!(percentile(&[3, 3, 3, 3, 9], 50.0), Some(3));
        assert_eq!(percentile(&[3, 3, 3, 3, 9], 90.0), Some(9));
        assert_eq!(percentile(&[1, 2, 2, 2, 2, 2, 2, 2, 2, 2], 90.0), Some(2));
        assert_eq!(percentile(&ten, 0.0), None);
        assert_eq!(percentile(&ten, 101.0), None);
        assert_eq!(percentile(&ten, f64::NAN), None);
    }

    #[test]
    fn durations_are_summarized_in_hours_whatever_their_order() {
        let mut s = vec![7200, 3600, 36000, 1800];
        let d = summarize(&mut s);
        assert_eq!(d, DurationSummary { count: 4, median_hours: Some(1.0), p90_hours: Some(10.0) });
        assert_eq!(summarize(&mut []), DurationSummary { count: 0, median_hours: None, p90_hours: None });
        let one = summarize(&mut [5400]);
        assert_eq!((one.median_hours, one.p90_hours), (Some(1.5), Some(1.5)));
    }

    #[test]
    fn selection_gives_the_percentiles_of_the_sorted_values() {
        let mut x: u64 = 12345;
        for n in 1..200usize {
            let values: Vec<i64> = (0..n)
                .map(|_| {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    ((x >> 40) % 50) as i64
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let d = summarize(&mut values.clone());
            let h = |p| percentile(&sorted, p).map(|s| s as f64 / 3600.0);
            assert_eq!((d.median_hours, d.p90_hours, d.count), (h(50.0), h(90.0), n as i64), "{values:?}");
        }
    }

    #[test]
    fn satisfaction_from_ratings() {
        let s = satisfaction([1, 0, 1, 1, 2]);
        assert_eq!(s.rated, 5);
        assert_eq!(s.mean, Some((1.0 + 3.0 + 4.0 + 10.0) / 5.0));
        assert_eq!(s.distribution, vec![1, 0, 1, 1, 2]);
        assert_eq!(s.share_satisfied, Some(0.6));
        let none = satisfaction([0; 5]);
        assert_eq!((none.rated, none.mean, none.share_satisfied), (0, None, None));
        assert_eq!(satisfaction([0, 0, 0, 0, 3]).share_satisfied, Some(1.0));
        assert_eq!(satisfaction([2, 0, 0, 0, 0]).share_satisfied, Some(0.0));
    }

    #[test]
    fn counts_add_up() {
        let a = CaseCounts {
            cases: 2,
            open: 1,
            resolved: 1,
            closed: 1,
            overdue: 1,
            escalated: 0,
            ratings: [0, 0, 0, 1, 0],
        };
        let b =
            CaseCounts { cases: 3, open: 3, overdue: 2, escalated: 1, ratings: [1, 0, 0, 0, 0], ..Default::default() };
        let mut t = CaseCounts::default();
        t.add(&a);
        t.add(&b);
        assert_eq!(
            t,
            CaseCounts {
                cases: 5,
                open: 4,
                resolved: 1,
                closed: 1,
                overdue: 3,
                escalated: 1,
                ratings: [1, 0, 0, 1, 0]
            }
        );
        let f = figures(&t, &mut [60, 30], &mut []);
        assert_eq!((f.cases, f.overdue, f.to_acknowledge.count, f.to_resolve.median_hours), (5, 3, 2, None));
        assert_eq!(f.to_acknowledge.median_hours, Some(30.0 / 3600.0));
        assert_eq!(f.satisfaction.mean, Some(2.5));
    }
}
