//! The template environment: every template embedded in the binary, `t("key", name=value)` for the
//! catalogue, and the language negotiation headers of every page (the security headers, CSP included,
//! come from [`crate::security_headers`]).

use crate::i18n::Lang;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::value::Kwargs;
use minijinja::{AutoEscape, Environment, Output, State, UndefinedBehavior, Value};
use std::sync::LazyLock;

/// Every template, by name, compiled into the binary.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("front.html", include_str!("../../templates/front.html")),
    ("regions.html", include_str!("../../templates/regions.html")),
    ("coverage/dashboard.html", include_str!("../../templates/coverage/dashboard.html")),
    ("coverage/figures.html", include_str!("../../templates/coverage/figures.html")),
    ("coverage/filters.html", include_str!("../../templates/coverage/filters.html")),
    ("coverage/gaps.html", include_str!("../../templates/coverage/gaps.html")),
    ("coverage/gap_table.html", include_str!("../../templates/coverage/gap_table.html")),
    ("case_stats.html", include_str!("../../templates/case_stats.html")),
    ("entities/list.html", include_str!("../../templates/entities/list.html")),
    ("entities/table.html", include_str!("../../templates/entities/table.html")),
    ("entities/filters.html", include_str!("../../templates/entities/filters.html")),
    ("entities/show.html", include_str!("../../templates/entities/show.html")),
    ("entities/form.html", include_str!("../../templates/entities/form.html")),
    ("organizations/list.html", include_str!("../../templates/organizations/list.html")),
    ("organizations/show.html", include_str!("../../templates/organizations/show.html")),
    ("organizations/form.html", include_str!("../../templates/organizations/form.html")),
    ("instructors/list.html", include_str!("../../templates/instructors/list.html")),
    ("instructors/show.html", include_str!("../../templates/instructors/show.html")),
    ("instructors/form.html", include_str!("../../templates/instructors/form.html")),
    ("instructors/mobile.html", include_str!("../../templates/instructors/mobile.html")),
    ("stations/list.html", include_str!("../../templates/stations/list.html")),
    ("stations/show.html", include_str!("../../templates/stations/show.html")),
    ("stations/form.html", include_str!("../../templates/stations/form.html")),
    ("stations/near.html", include_str!("../../templates/stations/near.html")),
    ("members/dues.html", include_str!("../../templates/members/dues.html")),
    ("members/development.html", include_str!("../../templates/members/development.html")),
    ("import.html", include_str!("../../templates/import.html")),
    ("auth/login.html", include_str!("../../templates/auth/login.html")),
    ("auth/totp.html", include_str!("../../templates/auth/totp.html")),
    ("account/show.html", include_str!("../../templates/account/show.html")),
    ("account/password.html", include_str!("../../templates/account/password.html")),
    ("admin/users.html", include_str!("../../templates/admin/users.html")),
    ("admin/user_status.html", include_str!("../../templates/admin/user_status.html")),
    ("admin/user.html", include_str!("../../templates/admin/user.html")),
    ("admin/grants.html", include_str!("../../templates/admin/grants.html")),
    ("admin/password_once.html", include_str!("../../templates/admin/password_once.html")),
    ("admin/tokens.html", include_str!("../../templates/admin/tokens.html")),
    ("admin/token.html", include_str!("../../templates/admin/token.html")),
    ("admin/token_once.html", include_str!("../../templates/admin/token_once.html")),
    ("admin/settings.html", include_str!("../../templates/admin/settings.html")),
    ("admin/audit.html", include_str!("../../templates/admin/audit.html")),
    ("admin/case_settings.html", include_str!("../../templates/admin/case_settings.html")),
    ("cases/report.html", include_str!("../../templates/cases/report.html")),
    ("cases/track_lookup.html", include_str!("../../templates/cases/track_lookup.html")),
    ("cases/track.html", include_str!("../../templates/cases/track.html")),
    ("cases/inbox.html", include_str!("../../templates/cases/inbox.html")),
    ("cases/case.html", include_str!("../../templates/cases/case.html")),
    ("cases/contact.html", include_str!("../../templates/cases/contact.html")),
];

fn translate(state: &State, key: &str, kwargs: Kwargs) -> Result<String, minijinja::Error> {
    let lang = state.lookup("lang").and_then(|v| v.as_str().and_then(Lang::parse)).unwrap_or_default();
    let mut args = Vec::new();
    for name in kwargs.args() {
        let v: Value = kwargs.get(name)?;
        args.push((name, v.to_string()));
    }
    Ok(lang.t(key, &args))
}

/// A query string with one parameter replaced (or removed when `value` is empty): for pagination and
/// filter links that keep the other filters.
fn with_param(query: &Value, name: &str, value: Value) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Ok(iter) = query.try_iter() {
        for k in iter {
            let Some(key) = k.as_str() else { continue };
            if key == name {
                continue;
            }
            let v = query.get_item(&k).map(|v| v.to_string()).unwrap_or_default();
            if !v.is_empty() && v != "none" {
                pairs.push((key.to_owned(), v));
            }
        }
    }
    let value = value.to_string();
    if !value.is_empty() && value != "none" {
        pairs.push((name.to_owned(), value));
    }
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        ser.append_pair(k, v);
    }
    let s = ser.finish();
    if s.is_empty() {
        "?".to_owned()
    } else {
        format!("?{s}")
    }
}

/// HTML escaping of `& < > " '` — enough for text and double-quoted attributes, and unlike the
/// default it leaves `/` alone, so URLs read the same in the page source.
fn html_formatter(out: &mut Output, state: &State, value: &Value) -> Result<(), minijinja::Error> {
    match (state.auto_escape(), value.as_str()) {
        (AutoEscape::Html, Some(s)) if !value.is_safe() => {
            let mut escaped = String::with_capacity(s.len());
            for c in s.chars() {
                match c {
                    '&' => escaped.push_str("&amp;"),
                    '<' => escaped.push_str("&lt;"),
                    '>' => escaped.push_str("&gt;"),
                    '"' => escaped.push_str("&quot;"),
                    '\'' => escaped.push_str("&#x27;"),
                    c => escaped.push(c),
                }
            }
            out.write_str(&escaped)
                .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// `{{ rate|pct }}`: a rate (0–1) as a percentage with one decimal, `—` when there is none.
fn pct(rate: Value) -> String {
    super::charts::pct(f64::try_from(rate).ok())
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_formatter(html_formatter);
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "template does not compile");
        }
    }
    env.add_function("t", translate);
    env.add_function("with_param", with_param);
    env.add_filter("pct", pct);
    env
}

static ENV: LazyLock<Environment<'static>> = LazyLock::new(environment);

/// Renders `template` with `ctx` to an HTML string.
pub fn render_to_string(template: &str, ctx: Value) -> Result<String, minijinja::Error> {
    ENV.get_template(template)?.render(ctx)
}

/// Renders a whole page response; a template failure is logged and becomes a plain 500.
pub fn page(status: StatusCode, lang: Lang, template: &str, ctx: Value) -> Response {
    match render_to_string(template, ctx) {
        Ok(html) => with_headers((status, Html(html)).into_response(), lang),
        Err(e) => {
            let mut chain = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(cause) = src {
                chain.push_str(&format!(": {cause}"));
                src = cause.source();
            }
            tracing::error!(template, error = %chain, "template failed to render");
            let text = lang.t("error.internal", &[]);
            with_headers((StatusCode::INTERNAL_SERVER_ERROR, text).into_response(), lang)
        }
    }
}

fn with_headers(mut r: Response, lang: Lang) -> Response {
    let h = r.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Cookie, Accept-Language"));
    h.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.code()));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            assert!(env.add_template(name, source).is_ok(), "{name} does not compile");
        }
    }

    #[test]
    fn every_template_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut found = Vec::new();
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(rel) = p.strip_prefix(&dir) {
                    found.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        for f in &found {
            assert!(TEMPLATES.iter().any(|(n, _)| n == f), "templates/{f} is not embedded");
        }
    }

    /// Every literal `t("…")` key used in a template exists in the catalogue.
    #[test]
    fn every_template_key_is_translated() {
        let mut missing = Vec::new();
        for (name, source) in TEMPLATES {
            for (at, _) in source.match_indices("t(\"") {
                let before = source[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                    continue;
                }
                let Some(key) = source[at + 3..].split('"').next() else { continue };
                if key.ends_with(['.', '_']) {
                    continue;
                }
                for lang in [Lang::Zh, Lang::En] {
                    if lang.lookup(key).is_none() {
                        missing.push(format!("{name}: {key} ({})", lang.code()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "missing translations:\n{}", missing.join("\n"));
    }

    #[test]
    fn escaping_keeps_urls_readable() {
        let mut env = Environment::new();
        env.set_formatter(html_formatter);
        let out = env.render_named_str(
            "t.html",
            "{{ u }}|{{ n }}|{{ s|safe }}",
            minijinja::context! { u => "/a?x=1&y=\"<'>", n => 5, s => "<b>" },
        );
        assert_eq!(out.ok().as_deref(), Some("/a?x=1&amp;y=&quot;&lt;&#x27;&gt;|5|<b>"));
    }

    #[test]
    fn params_keep_the_other_filters() {
        let q = Value::from_serialize(serde_json::json!({"kind": "site", "page": 2, "q": ""}));
        assert_eq!(with_param(&q, "page", Value::from(3)), "?kind=site&page=3");
        assert_eq!(with_param(&q, "kind", Value::from("")), "?page=2");
    }
}
