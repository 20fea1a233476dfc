//! Region subtrees as ranges of codes, so that "in the subtree of 广东" is a range scan on an index of
//! `region_code` rather than a lookup of every row's region path.
//!
//! The materialized path (`/44/4401/440103/`) stays the source of truth. Codes nearly always extend
//! their parent's code, so a subtree is nearly always one contiguous run of the codes in sorted order;
//! where a region was placed under a parent whose code it does not extend (the XPCC's cities, NBS
//! prefecture 6590, sit under the XPCC, 66, not under Xinjiang, 65), the subtree splits into a few runs.
//! [`RegionTree::subtree_runs`] derives the runs from the paths, whatever they are: a run is a maximal
//! stretch of consecutive codes (in the sorted order of every region code) that all lie in the subtree.
//! Every row's region code is one of those codes (a foreign key), so `code BETWEEN first AND last` over
//! the runs selects exactly the rows whose region's path lies under the subtree's.
//!
//! Codes are digit strings; digit strings compare the same byte-wise and under any collation a
//! database may use, so the database's order is the one computed here.

use crate::error::StoreResult;
use crate::query::Where;
use crate::Store;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a process trusts its copy of the region tree. This process's own region writes refresh it
/// at once; another process's (a region added from another server) are seen within this time.
const TREE_MAX_AGE: Duration = Duration::from_secs(300);

/// A store's copy of the region tree, shared by its clones.
#[derive(Debug, Clone, Default)]
pub(crate) struct TreeCache(Arc<tokio::sync::RwLock<Option<CachedTree>>>);

/// The tree and when it was read.
type CachedTree = (Instant, Arc<RegionTree>);

impl Store {
    /// The region tree (codes and paths), read once and kept; see [`TREE_MAX_AGE`].
    pub async fn region_tree(&self) -> StoreResult<Arc<RegionTree>> {
        if let Some((at, tree)) = self.region_tree.0.read().await.as_ref() {
            if at.elapsed() < TREE_MAX_AGE {
                return Ok(tree.clone());
            }
        }
        let mut slot = self.region_tree.0.write().await;
        if let Some((at, tree)) = slot.as_ref() {
            if at.elapsed() < TREE_MAX_AGE {
                return Ok(tree.clone());
            }
        }
        let rows = sqlx::query("SELECT code, path FROM regions").fetch_all(&self.pool).await?;
        let pairs = rows
            .iter()
            .map(|r| Ok((r.try_get::<String, _>("code")?, r.try_get::<String, _>("path")?)))
            .collect::<StoreResult<Vec<_>>>()?;
        let tree = Arc::new(RegionTree::new(pairs));
        *slot = Some((Instant::now(), tree.clone()));
        Ok(tree)
    }

    /// Forgets the region tree after a region was added or removed.
    pub(crate) async fn forget_region_tree(&self) {
        *self.region_tree.0.write().await = None;
    }
}

/// The regions' codes in sorted order with their paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionTree {
    codes: Vec<String>,
    paths: Vec<String>,
    by_code: HashMap<String, usize>,
    /// Positions of the regions whose code does not extend every ancestor's code (the XPCC's cities
    /// and what lies below them): the only ones a subtree can hold outside its root's code prefix.
    irregular: Vec<usize>,
}

/// An inclusive range of region codes, `first ..= last`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRun {
    pub first: String,
    pub last: String,
}

impl RegionTree {
    /// The tree of `regions` given as (code, path), in any order.
    pub fn new(mut regions: Vec<(String, String)>) -> Self {
        regions.sort_by(|a, b| a.0.cmp(&b.0));
        regions.dedup_by(|a, b| a.0 == b.0);
        let by_code = regions.iter().enumerate().map(|(i, (c, _))| (c.clone(), i)).collect();
        let irregular = regions
            .iter()
            .enumerate()
            .filter(|(_, (code, path))| path.split('/').filter(|a| !a.is_empty()).any(|a| !code.starts_with(a)))
            .map(|(i, _)| i)
            .collect();
        let (codes, paths) = regions.into_iter().unzip();
        Self { codes, paths, by_code, irregular }
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The path of a region code, if the region exists.
    pub fn path_of(&self, code: &str) -> Option<&str> {
        self.by_code.get(code).map(|&i| self.paths[i].as_str())
    }

    /// The runs of codes whose path starts with `prefix` (a path such as `/44/` or `/66/6590/`, with
    /// its trailing slash); none for a prefix no region has. `/` is every region: one run.
    pub fn subtree_runs(&self, prefix: &str) -> Vec<CodeRun> {
        let mut runs = Vec::new();
        let mut current: Option<(usize, usize)> = None;
        for i in self.candidate_positions(prefix) {
            if self.paths[i].starts_with(prefix) {
                current = match current {
                    Some((start, end)) if end + 1 == i => Some((start, i)),
                    other => {
                        runs.extend(other.map(|(s, e)| self.run(s, e)));
                        Some((i, i))
                    }
                };
            } else {
                runs.extend(current.take().map(|(s, e)| self.run(s, e)));
            }
        }
        runs.extend(current.map(|(s, e)| self.run(s, e)));
        runs
    }

    fn run(&self, start: usize, end: usize) -> CodeRun {
        CodeRun { first: self.codes[start].clone(), last: self.codes[end].clone() }
    }

    /// Sorted positions that may lie under `prefix`: a region of the subtree whose code extends every
    /// ancestor's extends the subtree root's code; the others are the few irregular ones.
    fn candidate_positions(&self, prefix: &str) -> Vec<usize> {
        let root = prefix.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        if root.is_empty() {
            return (0..self.codes.len()).collect();
        }
        let start = self.codes.partition_point(|c| c.as_str() < root);
        let mut out: Vec<usize> = (start..self.codes.len()).take_while(|&i| self.codes[i].starts_with(root)).collect();
        out.extend(self.irregular.iter().copied());
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The condition that the region code in `col` lies in the subtree at `path` (a path of digits and
/// slashes; anything else in it is ignored, as in a scope).
pub(crate) fn subtree_cond(t: &RegionTree, w: &mut Where, col: &str, path: &str) -> String {
    let mut prefix: String = path.chars().filter(|c| c.is_ascii_digit() || *c == '/').collect();
    if !prefix.ends_with('/') {
        prefix.push('/');
    }
    if !prefix.starts_with('/') {
        prefix.insert(0, '/');
    }
    if prefix == "/" {
        return "1 = 1".into();
    }
    let parts: Vec<String> = t
        .subtree_runs(&prefix)
        .into_iter()
        .map(|r| {
            if r.first == r.last {
                let n = w.text(r.first);
                format!("{col} = ${n}")
            } else {
                let a = w.text(r.first);
                let b = w.text(r.last);
                format!("{col} BETWEEN ${a} AND ${b}")
            }
        })
        .collect();
    match parts.len() {
        0 => "1 = 0".into(),
        1 => parts.into_iter().next().unwrap_or_default(),
        _ => format!("({})", parts.join(" OR ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(rows: &[(&str, &str)]) -> RegionTree {
        RegionTree::new(rows.iter().map(|(c, p)| ((*c).to_owned(), (*p).to_owned())).collect())
    }

    fn runs(t: &RegionTree, prefix: &str) -> Vec<(String, String)> {
        t.subtree_runs(prefix).into_iter().map(|r| (r.first, r.last)).collect()
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.to_owned(), b.to_owned())
    }

    /// Xinjiang (65) with the XPCC's prefecture 6590 moved under the XPCC (66), and Guangdong.
    fn sample() -> RegionTree {
        tree(&[
            ("44", "/44/"),
            ("4401", "/44/4401/"),
            ("440103", "/44/4401/440103/"),
            ("440104", "/44/4401/440104/"),
            ("4403", "/44/4403/"),
            ("65", "/65/"),
            ("6501", "/65/6501/"),
            ("650102", "/65/6501/650102/"),
            ("6590", "/66/6590/"),
            ("659001", "/66/6590/659001/"),
            ("659002", "/66/6590/659002/"),
            ("6591", "/65/6591/"),
            ("66", "/66/"),
        ])
    }

    #[test]
    fn a_plain_subtree_is_one_run() {
        let t = sample();
        assert_eq!(runs(&t, "/44/"), vec![pair("44", "4403")]);
        assert_eq!(runs(&t, "/44/4401/"), vec![pair("4401", "440104")]);
        assert_eq!(runs(&t, "/44/4401/440103/"), vec![pair("440103", "440103")]);
    }

    #[test]
    fn the_xpcc_cities_leave_xinjiang_and_join_the_xpcc() {
        let t = sample();
        assert_eq!(runs(&t, "/65/"), vec![pair("65", "650102"), pair("6591", "6591")]);
        assert_eq!(runs(&t, "/66/"), vec![pair("6590", "659002"), pair("66", "66")]);
        assert_eq!(runs(&t, "/66/6590/"), vec![pair("6590", "659002")]);
    }

    #[test]
    fn the_whole_country_is_every_code_and_an_unknown_prefix_nothing() {
        let t = sample();
        assert_eq!(runs(&t, "/"), vec![pair("44", "66")]);
        assert!(runs(&t, "/99/").is_empty());
        assert_eq!(t.path_of("659001"), Some("/66/6590/659001/"));
        assert_eq!(t.path_of("1"), None);
    }

    /// Every subtree's runs select exactly the codes whose path lies under it, on a random tree with
    /// regions placed under parents they do not extend.
    #[test]
    fn runs_select_exactly_the_subtree_on_random_trees() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..50 {
            let mut rows: Vec<(String, String)> = Vec::new();
            for p in 0..(2 + next(4)) {
                let code = format!("{}", 11 + p * 3);
                rows.push((code.clone(), format!("/{code}/")));
            }
            for _ in 0..40 {
                let parent = rows[next(rows.len() as u64) as usize].clone();
                // Mostly a code that extends the parent's; sometimes one from another province.
                let base =
                    if next(6) == 0 { rows[next(rows.len() as u64) as usize].0.clone() } else { parent.0.clone() };
                let code = format!("{base}{:02}", next(100));
                if rows.iter().any(|r| r.0 == code) {
                    continue;
                }
                rows.push((code.clone(), format!("{}{code}/", parent.1)));
            }
            let t = RegionTree::new(rows.clone());
            for (_, path) in &rows {
                let got: Vec<&String> = rows
                    .iter()
                    .map(|r| &r.0)
                    .filter(|c| t.subtree_runs(path).iter().any(|run| run.first <= **c && **c <= run.last))
                    .collect();
                let mut want: Vec<&String> =
                    rows.iter().filter(|r| r.1.starts_with(path.as_str())).map(|r| &r.0).collect();
                let mut got = got;
                got.sort();
                want.sort();
                assert_eq!(got, want, "subtree {path}");
            }
        }
    }
}
