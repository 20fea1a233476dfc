//! The language of a request: `?lang=`, then the `lang` cookie, then `Accept-Language`; Simplified
//! Chinese by default. Texts come from the one catalogue of `dangjian_i18n`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
pub use dangjian_i18n::Message;
use std::convert::Infallible;

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
        dangjian_i18n::lookup(self.code(), key)
    }

    /// The text of `key` with `{name}` placeholders filled in; the key itself when it is missing.
    pub fn t(self, key: &str, args: &[(&str, String)]) -> String {
        dangjian_i18n::text(self.code(), key, args)
    }

    /// A message in this language.
    pub fn say(self, m: &Message) -> String {
        m.render(self.code())
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
        Self::of_request(&parts.uri, &parts.headers)
    }

    /// The language asked for by a request's URI and headers (see [`Lang::from_parts`]).
    pub fn of_request(uri: &axum::http::Uri, headers: &axum::http::HeaderMap) -> Self {
        let from_query = uri.query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "lang").and_then(|(_, v)| Self::parse(&v))
        });
        let from_cookie = || {
            headers.get_all(axum::http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
                c.split(';')
                    .filter_map(|kv| kv.trim().split_once('='))
                    .find(|(k, _)| *k == "lang")
                    .and_then(|(_, v)| Self::parse(v))
            })
        };
        let from_header = || {
            headers
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
    fn placeholders() {
        assert_eq!(Lang::En.t("no.such.key", &[]), "no.such.key");
        assert_eq!(Lang::Zh.t("list.total", &[("n", "3".into())]), "共 3 条");
    }
}
