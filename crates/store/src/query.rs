//! Dynamically built filters and paged lists, shared by every registry list.

use crate::error::StoreResult;
use crate::{Page, Paging, Store};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A bind value for dynamically built queries.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

/// A WHERE clause under construction: conditions with `$n` placeholders and their values.
#[derive(Debug, Default, Clone)]
pub(crate) struct Where {
    conds: Vec<String>,
    binds: Vec<Bind>,
}

impl Where {
    /// Adds a value and returns its placeholder number.
    pub fn bind(&mut self, b: Bind) -> usize {
        self.binds.push(b);
        self.binds.len()
    }

    pub fn text(&mut self, s: impl Into<String>) -> usize {
        self.bind(Bind::Text(s.into()))
    }

    pub fn int(&mut self, i: i64) -> usize {
        self.bind(Bind::Int(i))
    }

    pub fn cond(&mut self, c: impl Into<String>) {
        self.conds.push(c.into());
    }

    pub fn sql(&self) -> String {
        if self.conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conds.join(" AND "))
        }
    }

    pub fn apply<'q>(
        &self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for b in &self.binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

impl Store {
    /// Runs `SELECT COUNT(*) FROM {from}{where}` and `{select}{where} ORDER BY {order} LIMIT/OFFSET`.
    pub(crate) async fn fetch_page<T>(
        &self,
        select: &str,
        from: &str,
        w: &Where,
        order: &str,
        paging: Paging,
        map: impl Fn(&AnyRow) -> StoreResult<T>,
    ) -> StoreResult<Page<T>> {
        self.fetch_page_counted(select, from, w, order, paging, None, map).await
    }

    /// As [`Store::fetch_page`], with the total already known (from the coverage index) when `total`
    /// is given: the `COUNT(*)` over a large subtree is then not run.
    #[expect(clippy::too_many_arguments, reason = "the page query's parts, as fetch_page takes them")]
    pub(crate) async fn fetch_page_counted<T>(
        &self,
        select: &str,
        from: &str,
        w: &Where,
        order: &str,
        paging: Paging,
        total: Option<i64>,
        map: impl Fn(&AnyRow) -> StoreResult<T>,
    ) -> StoreResult<Page<T>> {
        let where_sql = w.sql();
        let total: i64 = match total {
            Some(t) => t,
            None => {
                let count_sql = format!("SELECT COUNT(*) AS n FROM {from}{where_sql}");
                w.apply(sqlx::query(&count_sql)).fetch_one(&self.pool).await?.try_get("n")?
            }
        };
        let list_sql =
            format!("{select}{where_sql} ORDER BY {order} LIMIT {} OFFSET {}", paging.per_page, paging.offset());
        let rows = w.apply(sqlx::query(&list_sql)).fetch_all(&self.pool).await?;
        let items = rows.iter().map(map).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page { items, total, page: paging.page, per_page: paging.per_page })
    }

    /// `$1,$2,…` for an IN list of `n` values.
    pub(crate) fn placeholders(n: usize) -> String {
        (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(",")
    }
}
