//! The language of a request: `?lang=`, then the `lang` cookie, then `Accept-Language`; Simplified
//! Chinese by default. Also the translation catalogue of the pages (`i18n/zh-CN.json`, `i18n/en.json`,
//! embedded in the binary): flat maps from dotted keys to texts, `{name}` marking a placeholder.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::LazyLock;

/// The raw catalogues, by language code.
pub const CATALOGUE_SOURCES: [(&str, &str); 2] =
    [("zh-CN", include_str!("../i18n/zh-CN.json")), ("en", include_str!("../i18n/en.json"))];

type Catalogue = BTreeMap<String, String>;

/// A catalogue that does not parse is left empty (keys show through); a test keeps both parseable.
fn load(source: &str) -> Catalogue {
    serde_json::from_str(source).unwrap_or_else(|e| {
        tracing::error!(error = %e, "translation catalogue does not parse");
        Catalogue::new()
    })
}

static ZH: LazyLock<Catalogue> = LazyLock::new(|| load(CATALOGUE_SOURCES[0].1));
static EN: LazyLock<Catalogue> = LazyLock::new(|| load(CATALOGUE_SOURCES[1].1));

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Self::Zh => "zh-CN",
            Self::En => "en",
        }
    }

    /// The other language (for the switch link).
    pub fn other(self) -> Self {
        match self {
            Self::Zh => Self::En,
            Self::En => Self::Zh,
        }
    }

    /// The text of `key` in this language, if the catalogue has it.
    pub fn lookup(self, key: &str) -> Option<&'static str> {
        let cat: &'static Catalogue = match self {
            Self::Zh => &ZH,
            Self::En => &EN,
        };
        cat.get(key).map(String::as_str)
    }

    /// The text of `key` with `{name}` placeholders filled in; the key itself when it is missing.
    pub fn t(self, key: &str, args: &[(&str, String)]) -> String {
        let mut text = self.lookup(key).unwrap_or(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// Chooses between a Chinese and an English text.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> String {
        match self {
            Self::Zh => zh.to_owned(),
            Self::En => en.to_owned(),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Self::Zh)
        } else if s.starts_with("en") {
            Some(Self::En)
        } else {
            None
        }
    }

    /// The language asked for by a request's query, cookie or `Accept-Language` header.
    pub fn from_parts(parts: &Parts) -> Self {
        let from_query = parts.uri.query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "lang").and_then(|(_, v)| Self::parse(&v))
        });
        let from_cookie = || {
            parts.headers.get_all(axum::http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
                c.split(';')
                    .filter_map(|kv| kv.trim().split_once('='))
                    .find(|(k, _)| *k == "lang")
                    .and_then(|(_, v)| Self::parse(v))
            })
        };
        let from_header = || {
            parts
                .headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(Self::parse)
        };
        from_query.or_else(from_cookie).or_else(from_header).unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang_of(uri: &str, headers: &[(&str, &str)]) -> Lang {
        let mut b = axum::http::Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let (parts, _) = b.body(()).unwrap_or_default().into_parts();
        Lang::from_parts(&parts)
    }

    #[test]
    fn precedence() {
        assert_eq!(lang_of("/", &[]), Lang::Zh);
        assert_eq!(lang_of("/", &[("accept-language", "en-US,en;q=0.9")]), Lang::En);
        assert_eq!(lang_of("/", &[("cookie", "a=b; lang=en"), ("accept-language", "zh-CN")]), Lang::En);
        assert_eq!(lang_of("/?lang=zh-CN", &[("cookie", "lang=en")]), Lang::Zh);
    }

    #[test]
    fn catalogues_parse_and_have_the_same_keys() {
        let zh = load(CATALOGUE_SOURCES[0].1);
        let en = load(CATALOGUE_SOURCES[1].1);
        assert!(zh.len() > 50, "zh-CN catalogue is empty or does not parse");
        let zh_keys: Vec<&String> = zh.keys().collect();
        let en_keys: Vec<&String> = en.keys().collect();
        assert_eq!(zh_keys, en_keys, "zh-CN and en catalogues differ in keys");
        assert!(zh.values().chain(en.values()).all(|v| !v.trim().is_empty()), "empty translation");
    }

    #[test]
    fn placeholders() {
        assert_eq!(Lang::En.t("no.such.key", &[]), "no.such.key");
        assert_eq!(Lang::Zh.t("list.total", &[("n", "3".into())]), "共 3 条");
    }
}
