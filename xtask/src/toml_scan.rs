//! A small, line-based reader of the parts of a Cargo manifest that `tidy` checks.
//!
//! It is not a TOML parser: it splits a manifest into logical statements (table headers and
//! `key = value` pairs, joined across lines while brackets, braces or multi-line strings are
//! open, with comments removed), which is all that the dependency and lint checks need.

/// One logical statement of a TOML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// A table header, `[a.b]` or `[[a.b]]`, with its dotted key split and unquoted.
    Table {
        /// The key path of the table.
        path: Vec<String>,
        /// 1-based line of the header.
        line: usize,
    },
    /// A `key.path = value` pair; `value` is the raw value text, trimmed, comments removed.
    KeyValue {
        /// The dotted key, split and unquoted.
        key: Vec<String>,
        /// The raw value text (may span several lines).
        value: String,
        /// 1-based line where the statement starts.
        line: usize,
    },
}

/// Splits a manifest into statements.
pub fn statements(text: &str) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut pending = String::new();
    let mut start_line = 0;
    let mut depth: i64 = 0;
    // Delimiter of an open multi-line string (`"""` or `'''`), carried across lines.
    let mut open_ml: Option<&'static str> = None;

    for (index, line) in text.lines().enumerate() {
        if pending.is_empty() {
            start_line = index + 1;
        }
        let kept = scan_line(line, &mut depth, &mut open_ml);
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(kept.trim_end());
        if depth <= 0 && open_ml.is_none() {
            let statement = pending.trim();
            if let Some(parsed) = parse_statement(statement, start_line) {
                out.push(parsed);
            }
            pending.clear();
            depth = 0;
        }
    }
    let statement = pending.trim();
    if let Some(parsed) = parse_statement(statement, start_line) {
        out.push(parsed);
    }
    out
}

/// Returns the part of `line` that is not a comment, updating the bracket depth and the
/// multi-line string state.
fn scan_line(line: &str, depth: &mut i64, open_ml: &mut Option<&'static str>) -> String {
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut end = bytes.len();
    while i < bytes.len() {
        if let Some(delim) = *open_ml {
            if delim == "\"\"\"" && bytes[i] == b'\\' {
                i += 2;
                continue;
            }
            if line[i..].starts_with(delim) {
                *open_ml = None;
                i += 3;
            } else {
                i += 1;
            }
            continue;
        }
        match bytes[i] {
            b'#' => {
                end = i;
                break;
            }
            b'"' | b'\'' => {
                let quote = bytes[i];
                let triple = if quote == b'"' { "\"\"\"" } else { "'''" };
                if line[i..].starts_with(triple) {
                    *open_ml = Some(triple);
                    i += 3;
                    continue;
                }
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    if quote == b'"' && bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'[' | b'{' => {
                *depth += 1;
                i += 1;
            }
            b']' | b'}' => {
                *depth -= 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    line[..end.min(line.len())].to_string()
}

fn parse_statement(text: &str, line: usize) -> Option<Statement> {
    if text.is_empty() {
        return None;
    }
    if text.starts_with('[') {
        let inner = text.trim_start_matches('[').trim_end_matches(']').trim();
        return Some(Statement::Table {
            path: split_key(inner),
            line,
        });
    }
    let eq = find_top_level(text, b'=')?;
    Some(Statement::KeyValue {
        key: split_key(&text[..eq]),
        value: text[eq + 1..].trim().to_string(),
        line,
    })
}

/// Position of the first `needle` outside quotes and nested brackets.
fn find_top_level(text: &str, needle: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0i64;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => {
                let quote = bytes[i];
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    if quote == b'"' && bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth -= 1,
            c if c == needle && depth == 0 => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splits a dotted key (`target.'cfg(unix)'.dependencies`) into unquoted parts.
pub fn split_key(key: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = key.trim();
    while !rest.is_empty() {
        let cut = find_top_level(rest, b'.').unwrap_or(rest.len());
        parts.push(unquote(rest[..cut].trim()));
        rest = rest.get(cut + 1..).unwrap_or("").trim();
    }
    parts
}

fn unquote(part: &str) -> String {
    let b = part.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        part[1..part.len() - 1].to_string()
    } else {
        part.to_string()
    }
}

/// The `key = value` items of an inline table `{ a = 1, b.c = "x" }`, or `None` if `value`
/// is not an inline table.
pub fn inline_table(value: &str) -> Option<Vec<(Vec<String>, String)>> {
    let inner = value.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut items = Vec::new();
    let mut rest = inner;
    while !rest.trim().is_empty() {
        let cut = find_top_level(rest, b',').unwrap_or(rest.len());
        let item = rest[..cut].trim();
        if let Some(eq) = find_top_level(item, b'=') {
            items.push((split_key(&item[..eq]), item[eq + 1..].trim().to_string()));
        }
        rest = rest.get(cut + 1..).unwrap_or("");
    }
    Some(items)
}

/// Whether the manifest opts into the workspace lints (`[lints] workspace = true`, or the
/// dotted / inline forms of the same).
pub fn has_workspace_lints(text: &str) -> bool {
    let mut table: Vec<String> = Vec::new();
    for statement in statements(text) {
        match statement {
            Statement::Table { path, .. } => table = path,
            Statement::KeyValue { key, value, .. } => {
                let full: Vec<&str> = table.iter().chain(&key).map(String::as_str).collect();
                match full.as_slice() {
                    ["lints", "workspace"] if value == "true" => return true,
                    ["lints"] => {
                        let items = inline_table(&value).unwrap_or_default();
                        if items
                            .iter()
                            .any(|(k, v)| k.len() == 1 && k[0] == "workspace" && v == "true")
                        {
                            return true;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    false
}

/// Keys that make a dependency bypass `[workspace.dependencies]`.
const SOURCE_KEYS: [&str; 7] = ["version", "path", "git", "registry", "branch", "tag", "rev"];

/// How one dependency of a member manifest is declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencySpec {
    /// The dependency table, e.g. `dependencies` or `target.'cfg(unix)'.dependencies`.
    pub table: String,
    /// The dependency key (the name used in the manifest).
    pub name: String,
    /// 1-based line of its first mention.
    pub line: usize,
    /// The text of its first mention, for messages.
    pub text: String,
    /// Whether it says `workspace = true`.
    pub workspace: bool,
    /// Source keys it sets itself (`version`, `path`, `git`, …), in order of appearance.
    pub source_keys: Vec<String>,
}

fn is_dependency_table(name: &str) -> bool {
    matches!(
        name,
        "dependencies"
            | "dev-dependencies"
            | "build-dependencies"
            | "dev_dependencies"
            | "build_dependencies"
    )
}

/// Splits a full key path into (dependency table, dependency name, rest of the path).
fn split_dependency_path(path: &[String]) -> Option<(String, &str, &[String])> {
    if path.len() >= 2 && is_dependency_table(&path[0]) {
        return Some((path[0].clone(), &path[1], &path[2..]));
    }
    if path.len() >= 4 && path[0] == "target" && is_dependency_table(&path[2]) {
        let table = format!("target.'{}'.{}", path[1], path[2]);
        return Some((table, &path[3], &path[4..]));
    }
    None
}

/// Every dependency declared in the manifest's `[dependencies]`, `[dev-dependencies]`,
/// `[build-dependencies]` and `[target.*.dependencies]` tables, in any of the usual forms
/// (`foo = "1"`, `foo.workspace = true`, `foo = { … }`, `[dependencies.foo]`), in order of
/// first appearance.
pub fn dependencies(text: &str) -> Vec<DependencySpec> {
    let mut specs: Vec<DependencySpec> = Vec::new();
    let mut table: Vec<String> = Vec::new();

    for statement in statements(text) {
        match statement {
            Statement::Table { path, line } => {
                if let Some((table_name, name, [])) = split_dependency_path(&path) {
                    let text = format!("[{}]", path.join("."));
                    spec_entry(&mut specs, table_name, name, line, text);
                }
                table = path;
            }
            Statement::KeyValue { key, value, line } => {
                let full: Vec<String> = table.iter().chain(&key).cloned().collect();
                let Some((table_name, name, rest)) = split_dependency_path(&full) else {
                    continue;
                };
                let text = format!("{} = {}", key.join("."), value);
                let spec = spec_entry(&mut specs, table_name, name, line, text);
                match rest {
                    [] => {
                        if let Some(items) = inline_table(&value) {
                            for (k, v) in items {
                                record_key(spec, &k, &v);
                            }
                        } else {
                            // `foo = "1.0"`: a bare version requirement.
                            spec.source_keys.push("version".to_string());
                        }
                    }
                    rest => record_key(spec, rest, &value),
                }
            }
        }
    }
    specs
}

fn spec_entry<'a>(
    specs: &'a mut Vec<DependencySpec>,
    table: String,
    name: &str,
    line: usize,
    text: String,
) -> &'a mut DependencySpec {
    let index = if let Some(i) = specs
        .iter()
        .position(|s| s.table == table && s.name == name)
    {
        i
    } else {
        specs.push(DependencySpec {
            table,
            name: name.to_string(),
            line,
            text,
            workspace: false,
            source_keys: Vec::new(),
        });
        specs.len() - 1
    };
    &mut specs[index]
}

fn record_key(spec: &mut DependencySpec, key: &[String], value: &str) {
    let Some(first) = key.first() else { return };
    if key.len() == 1 && first == "workspace" {
        spec.workspace = value == "true";
    } else if SOURCE_KEYS.contains(&first.as_str()) && !spec.source_keys.contains(first) {
        spec.source_keys.push(first.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_join_multiline_values_and_drop_comments() {
        let text = "[package] # the package\nname = \"a#b\"\n[features]\ndefault = [\n  \"x\", # one\n  \"y\",\n]\ndescription = \"\"\"\n[not a table]\n\"\"\"\n";
        let got = statements(text);
        assert_eq!(
            got,
            vec![
                Statement::Table {
                    path: vec!["package".into()],
                    line: 1
                },
                Statement::KeyValue {
                    key: vec!["name".into()],
                    value: "\"a#b\"".into(),
                    line: 2
                },
                Statement::Table {
                    path: vec!["features".into()],
                    line: 3
                },
                Statement::KeyValue {
                    key: vec!["default".into()],
                    value: "[\n  \"x\",\n  \"y\",\n]".into(),
                    line: 4,
                },
                Statement::KeyValue {
                    key: vec!["description".into()],
                    value: "\"\"\"\n[not a table]\n\"\"\"".into(),
                    line: 8,
                },
            ]
        );
    }

    #[test]
    fn split_key_handles_quotes_and_whitespace() {
        assert_eq!(
            split_key(" target . 'cfg(target_os = \"linux\")' .dependencies"),
            vec!["target", "cfg(target_os = \"linux\")", "dependencies"]
        );
    }

    #[test]
    fn workspace_lints_in_every_form() {
        assert!(has_workspace_lints(
            "[package]\nname = \"a\"\n\n[lints]\nworkspace = true\n"
        ));
        assert!(has_workspace_lints(
            "[ lints ]   # inherit\n  workspace   =   true  # yes\n"
        ));
        assert!(has_workspace_lints("lints.workspace = true\n[package]\n"));
        assert!(has_workspace_lints("lints = { workspace = true }\n"));
        assert!(!has_workspace_lints("[lints]\nworkspace = false\n"));
        assert!(!has_workspace_lints("[package]\nworkspace = true\n"));
        assert!(!has_workspace_lints(
            "[lints.rust]\nunsafe_code = \"forbid\"\n"
        ));
        assert!(!has_workspace_lints("# [lints]\n# workspace = true\n"));
    }

    #[test]
    fn dependencies_in_every_form() {
        let text = r#"
[package]
name = "m"
version.workspace = true

[dependencies]
a.workspace = true
b = { workspace = true, features = [
    "x",
] }
c = "1"
d = { version = "1", features = ["y"] }
e = { path = "../e" }

[dependencies.f]
workspace = true
optional = true

[dependencies.g]
git = "https://example.invalid/g"

[dev-dependencies]
h.version = "0.3"

[target.'cfg(unix)'.build-dependencies]
i = { workspace = true }
j = "2"
"#;
        let got: Vec<(String, String, bool, Vec<String>, usize)> = dependencies(text)
            .into_iter()
            .map(|d| (d.table, d.name, d.workspace, d.source_keys, d.line))
            .collect();
        let s = |x: &str| x.to_string();
        let want = vec![
            (s("dependencies"), s("a"), true, vec![], 7),
            (s("dependencies"), s("b"), true, vec![], 8),
            (s("dependencies"), s("c"), false, vec![s("version")], 11),
            (s("dependencies"), s("d"), false, vec![s("version")], 12),
            (s("dependencies"), s("e"), false, vec![s("path")], 13),
            (s("dependencies"), s("f"), true, vec![], 15),
            (s("dependencies"), s("g"), false, vec![s("git")], 19),
            (s("dev-dependencies"), s("h"), false, vec![s("version")], 23),
            (
                s("target.'cfg(unix)'.build-dependencies"),
                s("i"),
                true,
                vec![],
                26,
            ),
            (
                s("target.'cfg(unix)'.build-dependencies"),
                s("j"),
                false,
                vec![s("version")],
                27,
            ),
        ];
        assert_eq!(got, want);
    }
}
