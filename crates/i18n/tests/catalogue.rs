//! The catalogue against the code that uses it: every key the sources and templates name is in both
//! languages, and no text is translated outside the catalogue any more.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every file under `dir` ending in one of `exts`.
fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, exts, out);
        } else if exts.iter().any(|e| path.extension().is_some_and(|x| x == *e)) {
            out.push(path);
        }
    }
}

/// The non-test Rust sources and the templates of every crate.
fn sources() -> Vec<(PathBuf, String)> {
    let mut paths = Vec::new();
    let crates = workspace().join("crates");
    for krate in std::fs::read_dir(&crates).into_iter().flatten().flatten() {
        files(&krate.path().join("src"), &["rs"], &mut paths);
        files(&krate.path().join("templates"), &["html"], &mut paths);
    }
    paths
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(&p).ok().map(|s| (p, s)))
        .map(|(p, s)| {
            // The unit tests at the end of a file may use texts and keys of their own.
            let code = match s.find("#[cfg(test)]") {
                Some(i) if p.extension().is_some_and(|e| e == "rs") => s[..i].to_owned(),
                _ => s,
            };
            (p, code)
        })
        .collect()
}

fn catalogue(lang: &str) -> std::collections::BTreeMap<String, String> {
    let source = dangjian_i18n::SOURCES.iter().find(|(l, _)| *l == lang).map(|(_, s)| *s).unwrap_or_default();
    dangjian_i18n::parse(source)
}

/// Families whose keys are only ever catalogue keys: a literal of theirs is a key wherever it stands.
/// Other families share their shape with audit actions (`entity.create`) and template names
/// (`error.html`), so their literals count only where a text is looked up (`t("…")`,
/// `Message::new("…")`, `say(lang, "…")`).
const MESSAGE_FAMILIES: [&str; 10] = [
    "problem",
    "conflict",
    "api",
    "cli",
    "ingest",
    "open311",
    "password_problem",
    "region_level",
    "case_status_short",
    "org_kind_word",
];

const LOOKUPS: [&str; 5] = ["t(", "Message::new(", "say(lang, ", "text(lang, ", "lookup(lang, "];

/// String literals that are catalogue keys (`"problem.required"`, `t("nav.home")`).
fn key_literals(text: &str, families: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let mut at = 0;
        while let Some(i) = line[at..].find('"') {
            let open = at + i;
            let rest = &line[open + 1..];
            at = open + 1;
            let end = rest.find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'));
            let Some(end) = end else { break };
            let candidate = &rest[..end];
            let family = candidate.split('.').next().unwrap_or_default();
            let before = &line[..open];
            let looked_up = LOOKUPS.iter().any(|l| {
                before.strip_suffix(l).is_some_and(|b| {
                    // `t(` as a call of its own, not the end of `audit(`.
                    *l != "t(" || !b.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                })
            });
            if rest[end..].starts_with('"')
                && candidate.contains('.')
                && !candidate.ends_with('.')
                && !candidate.ends_with('_')
                && !candidate.contains("..")
                && families.contains(family)
                && (looked_up || MESSAGE_FAMILIES.contains(&family))
            {
                found.push(candidate.to_owned());
                at = open + 1 + end + 1;
            }
        }
    }
    found
}

#[test]
fn every_key_used_in_the_code_is_in_both_languages() {
    let (zh, en) = (catalogue("zh-CN"), catalogue("en"));
    let families: BTreeSet<String> = zh.keys().filter_map(|k| k.split('.').next()).map(str::to_owned).collect();
    let mut missing = BTreeSet::new();
    let mut used = 0;
    for (path, text) in sources() {
        for key in key_literals(&text, &families) {
            used += 1;
            for (lang, cat) in [("zh-CN", &zh), ("en", &en)] {
                if !cat.contains_key(&key) {
                    let file = path.strip_prefix(workspace()).unwrap_or(&path).display().to_string();
                    missing.insert(format!("{lang}: {key} ({file})"));
                }
            }
        }
    }
    assert!(used > 500, "only {used} keys found: is the scan looking in the right place?");
    assert!(
        missing.is_empty(),
        "keys missing from the catalogue:\n{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// Keys made at run time from a family and a code: every code of the family is in the catalogue.
#[test]
fn keys_made_from_codes_are_in_both_languages() {
    let families: [(&str, &[&str]); 6] = [
        ("entity_kind", &["platform", "franchisee", "partner", "site"]),
        ("org_kind", &["grassroots_committee", "general_branch", "branch", "joint_branch", "floating_branch"]),
        ("org_kind_word", &["grassroots_committee", "general_branch", "branch", "joint_branch", "floating_branch"]),
        ("region_level", &["province", "prefecture", "county", "township"]),
        ("case_status_short", &["submitted", "acknowledged", "resolved", "closed"]),
        (
            "role",
            &[
                "system_admin",
                "security_admin",
                "audit_admin",
                "department_cadre",
                "regulator",
                "platform_committee",
                "branch_secretary",
                "instructor",
            ],
        ),
    ];
    for lang in ["zh-CN", "en"] {
        let cat = catalogue(lang);
        for (family, codes) in families {
            for code in codes {
                assert!(cat.contains_key(&format!("{family}.{code}")), "{lang}: {family}.{code} missing");
            }
        }
    }
}

/// Text is translated in one way: no `message_zh` fields, no `pick` between two literal texts, no
/// `match` on the language choosing texts. (`Lang::pick` remains for records stored in both languages,
/// such as a category's `name_zh` and `name_en`.)
#[test]
fn no_text_is_translated_outside_the_catalogue() {
    let forbidden =
        ["message_zh", ".pick(\"", ".pick(&format!", "Lang::Zh => format!", "Lang::Zh => println!", "Lang::Zh => \""];
    let mut found = Vec::new();
    for (path, text) in sources() {
        let file = path.strip_prefix(workspace()).unwrap_or(&path).display().to_string();
        let squashed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for f in forbidden {
            let squashed_f: String = f.split_whitespace().collect::<Vec<_>>().join(" ");
            if squashed.contains(&squashed_f) || squashed.replace("( ", "(").contains(&squashed_f) {
                found.push(format!("{file}: {f}"));
            }
        }
    }
    assert!(found.is_empty(), "texts translated outside the catalogue:\n{}", found.join("\n"));
}
