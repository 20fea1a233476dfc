//! What every list page shares: lenient query parameters, the unit filter, paging links, sector names.

use super::PageCtx;
use crate::i18n::Lang;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use dangjian_domain::{EntityKind, SearchTerm};
use dangjian_store::entities::EntityFilter;
use dangjian_store::{Page, Paging, Store, StoreResult};
use serde::Serialize;
use std::collections::BTreeMap;
use std::convert::Infallible;

/// Rows per page of every list.
pub const PER_PAGE: i64 = 25;

/// Query parameters of a page: the first non-blank value of each name. Unknown or malformed
/// parameters never fail a page; the filter form shows what was understood.
#[derive(Debug, Default, Clone, Serialize)]
pub struct PageQuery(pub BTreeMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for PageQuery {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let mut map = BTreeMap::new();
        for (k, v) in url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()) {
            let v = v.trim();
            if !v.is_empty() && k != "lang" {
                map.entry(k.into_owned()).or_insert_with(|| v.to_owned());
            }
        }
        Ok(Self(map))
    }
}

impl PageQuery {
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    pub fn id(&self, name: &str) -> Option<i64> {
        self.0.get(name).and_then(|v| v.parse().ok())
    }

    pub fn paging(&self) -> Paging {
        Paging::new(self.id("page"), Some(PER_PAGE))
    }
}

/// The unit filter of a list page, or the message saying which parameter is not understood.
pub fn entity_filter(q: &PageQuery, lang: Lang) -> Result<EntityFilter, String> {
    let kind = match q.get("kind") {
        Some(k) => Some(EntityKind::parse(&k).map_err(|e| e.message_in(lang.code()).to_owned())?),
        None => None,
    };
    let closed = match q.get("status").as_deref() {
        None | Some("all") => None,
        Some("operating") => Some(false),
        Some("closed") => Some(true),
        Some(_) => return Err(lang.t("filter.bad_status", &[])),
    };
    Ok(EntityFilter {
        region: q.get("region"),
        sector: q.get("sector"),
        kind,
        root: q.id("root"),
        q: search_term(q, lang)?,
        closed,
    })
}

/// The page's search term (`q`), or the message saying what is wrong with it (too long, control characters).
pub fn search_term(q: &PageQuery, lang: Lang) -> Result<Option<SearchTerm>, String> {
    SearchTerm::parse(&q.get("q").unwrap_or_default(), "q").map_err(|e| e.message_in(lang.code()).to_owned())
}

/// Paging facts for the template's pager.
#[derive(Debug, Serialize)]
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    pub prev: Option<i64>,
    pub next: Option<i64>,
}

impl Pager {
    pub fn of<T>(p: &Page<T>) -> Self {
        let pages = ((p.total + p.per_page - 1) / p.per_page.max(1)).max(1);
        Pager {
            page: p.page,
            pages,
            total: p.total,
            prev: (p.page > 1).then(|| (p.page - 1).min(pages)),
            next: (p.page < pages).then_some(p.page + 1),
        }
    }
}

/// A sector for selects and labels, named in the page's language.
#[derive(Debug, Serialize)]
pub struct SectorOption {
    pub code: String,
    pub name: String,
}

/// Every sector, named in the page's language, and a map from code to name.
pub async fn sectors(store: &Store, ctx: &PageCtx) -> StoreResult<(Vec<SectorOption>, BTreeMap<String, String>)> {
    let all = store.list_sectors().await?;
    let options: Vec<SectorOption> =
        all.into_iter().map(|s| SectorOption { name: ctx.lang.pick(&s.name_zh, &s.name_en), code: s.code }).collect();
    let names = options.iter().map(|o| (o.code.clone(), o.name.clone())).collect();
    Ok((options, names))
}

/// The kinds of unit, for selects: codes; templates name them with `t("entity_kind." ~ code)`.
pub fn entity_kinds() -> Vec<&'static str> {
    EntityKind::ALL.iter().map(|k| k.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager() {
        let p = Page { items: vec![0; 25], total: 60, page: 2, per_page: 25 };
        let pg = Pager::of(&p);
        assert_eq!((pg.pages, pg.prev, pg.next), (3, Some(1), Some(3)));
        let empty: Page<i32> = Page { items: vec![], total: 0, page: 1, per_page: 25 };
        let pg = Pager::of(&empty);
        assert_eq!((pg.pages, pg.prev, pg.next), (1, None, None));
    }

    #[test]
    fn filters() {
        let q = PageQuery([("kind", "站点"), ("status", "operating")].map(|(k, v)| (k.into(), v.into())).into());
        let f = entity_filter(&q, Lang::Zh).ok();
        assert_eq!(f.as_ref().and_then(|f| f.kind), Some(EntityKind::Site));
        assert_eq!(f.and_then(|f| f.closed), Some(false));
        let bad = PageQuery([("kind", "x")].map(|(k, v)| (k.into(), v.into())).into());
        assert!(entity_filter(&bad, Lang::En).is_err());
    }
}
