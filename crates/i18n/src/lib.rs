//! The one translation catalogue of Dangjian and the messages said from it.
//!
//! Every user-facing text of the pages, the JSON API, Open311, the CLI and the domain's field errors is a
//! key in `catalogue/zh-CN.json` and `catalogue/en.json` (flat maps from dotted keys to texts, embedded in
//! the binary, `{name}` marking a placeholder). Code that finds a problem does not know who will read it,
//! so it makes a [`Message`] — a key and its arguments — and the edge that answers (an HTTP response, a
//! page, a CLI line) says it in the reader's language with [`Message::render`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The language codes of the catalogue; the first is the default.
pub const LANGS: [&str; 2] = ["zh-CN", "en"];

/// The raw catalogues, by language code (for the tests that compare them).
pub const SOURCES: [(&str, &str); 2] =
    [("zh-CN", include_str!("../catalogue/zh-CN.json")), ("en", include_str!("../catalogue/en.json"))];

type Catalogue = BTreeMap<String, String>;

/// A catalogue that does not parse is left empty (keys show through); a test keeps both parseable.
pub fn parse(source: &str) -> Catalogue {
    serde_json::from_str(source).unwrap_or_default()
}

static ZH: LazyLock<Catalogue> = LazyLock::new(|| parse(SOURCES[0].1));
static EN: LazyLock<Catalogue> = LazyLock::new(|| parse(SOURCES[1].1));

fn catalogue(lang: &str) -> &'static Catalogue {
    if lang.starts_with("zh") {
        &ZH
    } else {
        &EN
    }
}

/// The text of `key` in `lang` (`zh…` Chinese, anything else English), if the catalogue has it.
pub fn lookup(lang: &str, key: &str) -> Option<&'static str> {
    catalogue(lang).get(key).map(String::as_str)
}

/// The text of `key` in `lang` with `{name}` placeholders filled in; the key itself when it is missing.
pub fn text(lang: &str, key: &str, args: &[(&str, String)]) -> String {
    fill(lookup(lang, key).unwrap_or(key), args.iter().map(|(n, v)| (*n, v.as_str())))
}

fn fill<'a>(template: &str, args: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut text = template.to_owned();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// One thing to say to a user, not yet in a language: a catalogue key and the values of its placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    key: Cow<'static, str>,
    args: Vec<(&'static str, Arg)>,
    /// The "key" is the text itself, already in the reader's language (see [`Message::verbatim`]).
    verbatim: bool,
}

/// The value of a placeholder: text shown as it is (a code, a number, a name), or another message said
/// in the same language (a kind, a status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    Message(Message),
}

impl Message {
    /// The message of a catalogue key.
    pub fn new(key: &'static str) -> Self {
        Self { key: Cow::Borrowed(key), args: Vec::new(), verbatim: false }
    }

    /// The message of a key made at run time (e.g. `kind.` and a stored code). Such keys cannot be
    /// checked by scanning the sources, so the families they come from are listed in the catalogue tests.
    pub fn dynamic(key: String) -> Self {
        Self { key: Cow::Owned(key), args: Vec::new(), verbatim: false }
    }

    /// A text said as it is, in every language: one made by a step that was told the reader's language
    /// (the located errors of an import, whose column names are in the file's language).
    pub fn verbatim(text: impl Into<String>) -> Self {
        Self { key: Cow::Owned(text.into()), args: Vec::new(), verbatim: true }
    }

    /// Fills placeholder `{name}` with `value` shown as it is.
    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, Arg::Text(value.to_string())));
        self
    }

    /// Fills placeholder `{name}` with another message, said in the same language.
    pub fn arg_msg(mut self, name: &'static str, value: Message) -> Self {
        self.args.push((name, Arg::Message(value)));
        self
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn args(&self) -> &[(&'static str, Arg)] {
        &self.args
    }

    /// The message in `lang` (`zh…` Chinese, anything else English); the key when the catalogue lacks it.
    pub fn render(&self, lang: &str) -> String {
        if self.verbatim {
            return self.key.to_string();
        }
        let args: Vec<(&str, String)> = self
            .args
            .iter()
            .map(|(n, a)| {
                let v = match a {
                    Arg::Text(t) => t.clone(),
                    Arg::Message(m) => m.render(lang),
                };
                (*n, v)
            })
            .collect();
        fill(lookup(lang, &self.key).unwrap_or(&self.key), args.iter().map(|(n, v)| (*n, v.as_str())))
    }
}

/// English, for logs and `anyhow` chains; a user sees [`Message::render`] in their language.
impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render("en"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_parse_and_have_the_same_keys() {
        let zh = parse(SOURCES[0].1);
        let en = parse(SOURCES[1].1);
        assert!(zh.len() > 50, "zh-CN catalogue is empty or does not parse");
        let only_zh: Vec<&String> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
        let only_en: Vec<&String> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
        assert!(only_zh.is_empty() && only_en.is_empty(), "only in zh-CN: {only_zh:?}; only in en: {only_en:?}");
        assert!(zh.values().chain(en.values()).all(|v| !v.trim().is_empty()), "empty translation");
    }

    /// Placeholders are `{name}` of lower-case letters, digits and `_`; the two languages may use
    /// different ones (a Chinese text names a kind where the English one gives its code), but each
    /// text's braces must pair up, or a value would never be filled in.
    #[test]
    fn placeholders_are_well_formed() {
        let bad = |t: &str| {
            let mut rest = t;
            while let Some(i) = rest.find('{') {
                let Some(j) = rest[i..].find('}') else { return true };
                let name = &rest[i + 1..i + j];
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                    return true;
                }
                rest = &rest[i + j + 1..];
            }
            rest.contains('}')
        };
        for (lang, source) in SOURCES {
            let wrong: Vec<String> = parse(source).into_iter().filter(|(_, v)| bad(v)).map(|(k, _)| k).collect();
            assert!(wrong.is_empty(), "{lang}: malformed placeholders in {wrong:?}");
        }
    }

    #[test]
    fn messages_render_with_their_arguments() {
        assert_eq!(text("en", "no.such.key", &[]), "no.such.key");
        assert_eq!(text("zh-CN", "list.total", &[("n", "3".into())]), "共 3 条");
        assert_eq!(Message::new("list.total").arg("n", 3).render("zh-CN"), "共 3 条");
    }
}
