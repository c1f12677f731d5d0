//! `cargo xtask tidy`: the workspace's architecture rules, checked from `cargo metadata` and
//! the member manifests.
//!
//! The checks are pure functions over [`Inputs`] (metadata JSON plus manifest texts), so
//! tests can feed them fabricated workspaces; [`collect`] gathers the real inputs.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::toml_scan;

/// The polars-free shared vocabulary.
pub const CORE: &str = "mlship-core";
/// The facade: library + `mlship` binary, the only crate that wires lifecycle crates.
pub const FACADE: &str = "mlship";
/// The lifecycle crates: each depends on `mlship-core` and outside crates only.
pub const LIFECYCLE: [&str; 7] = [
    "mlship-preprocess",
    "mlship-train",
    "mlship-evaluate",
    "mlship-registry",
    "mlship-serve",
    "mlship-monitor",
    "mlship-explain",
];
/// The only members allowed to depend on the facade.
pub const FACADE_DEPENDENTS: [&str; 3] = [FACADE, "mlship-e2e", "xtask"];
/// The only members allowed to depend on polars.
pub const POLARS_ALLOWED: [&str; 2] = ["mlship-preprocess", FACADE];
/// Members whose whole dependency graph (as built for their tests) must be polars-free.
pub const POLARS_FREE: [&str; 7] = [
    CORE,
    "mlship-train",
    "mlship-evaluate",
    "mlship-serve",
    "mlship-monitor",
    "mlship-explain",
    "mlship-registry",
];

const POLARS_HOME: &str = "polars belongs only in mlship-preprocess and the facade mlship";

/// Which rule a violation breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// A lifecycle crate depends on a workspace crate other than `mlship-core`.
    Layering,
    /// `mlship-core` depends on a workspace crate.
    Core,
    /// A member other than the facade, `mlship-e2e` and `xtask` depends on the facade.
    Facade,
    /// polars outside `mlship-preprocess` and the facade.
    Polars,
    /// A member manifest lacks `[lints] workspace = true`.
    Lints,
    /// A member dependency does not inherit from `[workspace.dependencies]`.
    WorkspaceDeps,
}

impl Rule {
    fn code(self) -> &'static str {
        match self {
            Rule::Layering => "layering",
            Rule::Core => "core",
            Rule::Facade => "facade",
            Rule::Polars => "polars",
            Rule::Lints => "lints",
            Rule::WorkspaceDeps => "workspace-deps",
        }
    }
}

/// One broken rule, with a message that names the crate, the dependency and the fix.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    /// The rule broken.
    pub rule: Rule,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.rule.code(), self.message)
    }
}

/// Everything tidy reads, so the checks can run on fabricated input.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// Output of `cargo metadata --format-version 1 --no-deps`.
    pub metadata: Value,
    /// Output of `cargo metadata --format-version 1` (with the resolve graph), if available.
    pub resolved: Option<Value>,
    /// Member manifest texts, keyed by the `manifest_path` given in the metadata.
    pub manifests: BTreeMap<PathBuf, String>,
}

/// The kind of a declared dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepKind {
    /// `[dependencies]`.
    Normal,
    /// `[dev-dependencies]`.
    Dev,
    /// `[build-dependencies]`.
    Build,
}

impl DepKind {
    fn from_json(value: &Value) -> Result<Self> {
        match value {
            Value::Null => Ok(DepKind::Normal),
            Value::String(s) if s == "normal" => Ok(DepKind::Normal),
            Value::String(s) if s == "dev" => Ok(DepKind::Dev),
            Value::String(s) if s == "build" => Ok(DepKind::Build),
            other => bail!("unknown dependency kind {other} in cargo metadata"),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            DepKind::Normal => "normal dependency",
            DepKind::Dev => "dev-dependency",
            DepKind::Build => "build-dependency",
        }
    }
}

/// A dependency declared by a member, as listed by `cargo metadata`.
#[derive(Debug, Clone)]
pub struct Dependency {
    /// The package name (not the rename).
    pub name: String,
    /// Normal, dev or build.
    pub kind: DepKind,
    /// The `cfg(...)` or target triple it is restricted to, if any.
    pub target: Option<String>,
}

impl Dependency {
    fn describe(&self) -> String {
        match &self.target {
            Some(target) => format!("{}, for {target}", self.kind.describe()),
            None => self.kind.describe().to_string(),
        }
    }
}

/// A workspace member package.
#[derive(Debug, Clone)]
pub struct Member {
    /// Package name.
    pub name: String,
    /// Absolute path of its Cargo.toml.
    pub manifest_path: PathBuf,
    /// Declared dependencies, all kinds.
    pub dependencies: Vec<Dependency>,
}

fn str_field<'a>(value: &'a Value, field: &str) -> Result<&'a str> {
    value
        .get(field)
        .and_then(Value::as_str)
        .with_context(|| format!("cargo metadata: missing string field `{field}`"))
}

fn array_field<'a>(value: &'a Value, field: &str) -> Result<&'a Vec<Value>> {
    value
        .get(field)
        .and_then(Value::as_array)
        .with_context(|| format!("cargo metadata: missing array field `{field}`"))
}

fn workspace_member_ids(metadata: &Value) -> Result<BTreeSet<&str>> {
    array_field(metadata, "workspace_members")?
        .iter()
        .map(|id| {
            id.as_str()
                .context("cargo metadata: non-string workspace member id")
        })
        .collect()
}

/// The workspace members described by a metadata document, in metadata order.
pub fn members(metadata: &Value) -> Result<Vec<Member>> {
    let ids = workspace_member_ids(metadata)?;
    let mut out = Vec::new();
    for package in array_field(metadata, "packages")? {
        let id = str_field(package, "id")?;
        if !ids.contains(id) {
            continue;
        }
        let name = str_field(package, "name")?;
        let mut dependencies = Vec::new();
        for dep in array_field(package, "dependencies")? {
            dependencies.push(Dependency {
                name: str_field(dep, "name")?.to_string(),
                kind: DepKind::from_json(dep.get("kind").unwrap_or(&Value::Null))
                    .with_context(|| format!("in the dependencies of {name}"))?,
                target: dep
                    .get("target")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
        out.push(Member {
            name: name.to_string(),
            manifest_path: PathBuf::from(str_field(package, "manifest_path")?),
            dependencies,
        });
    }
    Ok(out)
}

fn is_polars(name: &str) -> bool {
    name == "polars" || name.starts_with("polars-")
}

/// Runs every check and returns the violations, sorted by rule then message.
pub fn check(inputs: &Inputs) -> Result<Vec<Violation>> {
    let members = members(&inputs.metadata)?;
    let root = PathBuf::from(str_field(&inputs.metadata, "workspace_root")?);
    let mut violations = check_layering(&members);
    violations.extend(check_polars_direct(&members));
    if let Some(resolved) = &inputs.resolved {
        violations.extend(check_polars_transitive(resolved)?);
    }
    for member in &members {
        let text = inputs
            .manifests
            .get(&member.manifest_path)
            .with_context(|| {
                format!(
                    "no manifest text for {} ({})",
                    member.name,
                    member.manifest_path.display()
                )
            })?;
        let shown = member
            .manifest_path
            .strip_prefix(&root)
            .unwrap_or(&member.manifest_path);
        violations.extend(check_lints(shown, text));
        violations.extend(check_workspace_deps(shown, text));
    }
    violations.sort();
    violations.dedup();
    Ok(violations)
}

/// Rules (a), (b) and (c): the dependency direction between workspace crates.
pub fn check_layering(members: &[Member]) -> Vec<Violation> {
    let names: BTreeSet<&str> = members.iter().map(|m| m.name.as_str()).collect();
    let mut out = Vec::new();
    for member in members {
        let me = member.name.as_str();
        for dep in &member.dependencies {
            let it = dep.name.as_str();
            if it == me || !names.contains(it) {
                continue;
            }
            let how = dep.describe();
            if LIFECYCLE.contains(&me) {
                let why = if it == FACADE {
                    format!(
                        "{me} depends on the facade {FACADE} ({how}): nothing depends on the \
                         facade except mlship-e2e and xtask"
                    )
                } else if LIFECYCLE.contains(&it) {
                    format!(
                        "{me} depends on its sibling {it} ({how}): a lifecycle crate depends only \
                         on {CORE} and outside crates; siblings meet through {CORE}'s traits and \
                         the facade {FACADE} wires them"
                    )
                } else if it == CORE {
                    continue;
                } else {
                    format!(
                        "{me} depends on the workspace crate {it} ({how}): a lifecycle crate \
                         depends only on {CORE} and outside crates"
                    )
                };
                out.push(Violation {
                    rule: Rule::Layering,
                    message: why,
                });
            } else if me == CORE {
                out.push(Violation {
                    rule: Rule::Core,
                    message: format!(
                        "{CORE} depends on the workspace crate {it} ({how}): {CORE} is the shared \
                         vocabulary and depends on no workspace crate"
                    ),
                });
            } else if it == FACADE && !FACADE_DEPENDENTS.contains(&me) {
                out.push(Violation {
                    rule: Rule::Facade,
                    message: format!(
                        "{me} depends on the facade {FACADE} ({how}): only mlship-e2e and xtask \
                         may depend on the facade"
                    ),
                });
            }
        }
    }
    out
}

/// Rule (d), direct part: no member but the preprocess crate and the facade declares polars.
pub fn check_polars_direct(members: &[Member]) -> Vec<Violation> {
    let mut out = Vec::new();
    for member in members {
        if POLARS_ALLOWED.contains(&member.name.as_str()) {
            continue;
        }
        for dep in member.dependencies.iter().filter(|d| is_polars(&d.name)) {
            out.push(Violation {
                rule: Rule::Polars,
                message: format!(
                    "{} depends on {} ({}): {POLARS_HOME}",
                    member.name,
                    dep.name,
                    dep.describe()
                ),
            });
        }
    }
    out
}

/// Rule (d), transitive part: walks the resolve graph of a full `cargo metadata` from each
/// crate in [`POLARS_FREE`] (all its own dependency kinds, then normal and build edges) and
/// reports the shortest path to a polars crate. Members that declare polars directly are left
/// to [`check_polars_direct`].
pub fn check_polars_transitive(resolved: &Value) -> Result<Vec<Violation>> {
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for package in array_field(resolved, "packages")? {
        names.insert(str_field(package, "id")?, str_field(package, "name")?);
    }

    let Some(resolve) = resolved.get("resolve").filter(|r| !r.is_null()) else {
        bail!("cargo metadata: no resolve graph (was it run with --no-deps?)");
    };
    // id -> [(dependency id, usable beyond the root: a normal or build edge)]
    let mut edges: BTreeMap<&str, Vec<(&str, bool)>> = BTreeMap::new();
    for node in array_field(resolve, "nodes")? {
        let id = str_field(node, "id")?;
        let mut list = Vec::new();
        for dep in array_field(node, "deps")? {
            let pkg = str_field(dep, "pkg")?;
            // No `dep_kinds` (very old cargo): assume a normal edge.
            let built = dep
                .get("dep_kinds")
                .and_then(Value::as_array)
                .is_none_or(|kinds| {
                    kinds
                        .iter()
                        .any(|k| k.get("kind").and_then(Value::as_str) != Some("dev"))
                });
            list.push((pkg, built));
        }
        edges.insert(id, list);
    }

    let mut out = Vec::new();
    for root in workspace_member_ids(resolved)? {
        let root_name = name_of(&names, root);
        if !POLARS_FREE.contains(&root_name) {
            continue;
        }
        let direct = edges.get(root).into_iter().flatten();
        if direct
            .clone()
            .any(|(dep, _)| is_polars(name_of(&names, dep)))
        {
            continue;
        }
        if let Some(path) = shortest_path_to_polars(root, &edges, &names) {
            let last = path.last().map_or("polars", |s| s.as_str());
            out.push(Violation {
                rule: Rule::Polars,
                message: format!(
                    "{root_name} pulls in {last} through {}: {POLARS_HOME}",
                    path.join(" -> ")
                ),
            });
        }
    }
    Ok(out)
}

fn name_of<'a>(names: &BTreeMap<&'a str, &'a str>, id: &'a str) -> &'a str {
    names.get(id).copied().unwrap_or(id)
}

fn shortest_path_to_polars<'a>(
    root: &'a str,
    edges: &BTreeMap<&'a str, Vec<(&'a str, bool)>>,
    names: &BTreeMap<&'a str, &'a str>,
) -> Option<Vec<String>> {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([root]);
    let mut seen = BTreeSet::from([root]);
    while let Some(node) = queue.pop_front() {
        for &(dep, built) in edges.get(node).into_iter().flatten() {
            // The root's dev-dependencies are built for its tests; nobody else's are.
            if !(built || node == root) || !seen.insert(dep) {
                continue;
            }
            parent.insert(dep, node);
            if is_polars(name_of(names, dep)) {
                let mut path = vec![name_of(names, dep).to_string()];
                let mut at = dep;
                while let Some(&up) = parent.get(at) {
                    path.push(name_of(names, up).to_string());
                    at = up;
                }
                path.reverse();
                return Some(path);
            }
            queue.push_back(dep);
        }
    }
    None
}

/// Rule (e): the manifest opts into the workspace lints.
pub fn check_lints(shown_path: &Path, text: &str) -> Vec<Violation> {
    if toml_scan::has_workspace_lints(text) {
        return Vec::new();
    }
    vec![Violation {
        rule: Rule::Lints,
        message: format!(
            "{} lacks `[lints] workspace = true`: add it so the workspace lints apply",
            shown_path.display()
        ),
    }]
}

/// Rule (f): every dependency inherits from `[workspace.dependencies]`.
pub fn check_workspace_deps(shown_path: &Path, text: &str) -> Vec<Violation> {
    toml_scan::dependencies(text)
        .into_iter()
        .filter(|dep| !dep.workspace)
        .map(|dep| {
            let what = if dep.source_keys.is_empty() {
                "does not inherit from [workspace.dependencies]".to_string()
            } else {
                let keys: Vec<String> = dep.source_keys.iter().map(|k| format!("`{k}`")).collect();
                format!("sets {} itself", keys.join(", "))
            };
            Violation {
                rule: Rule::WorkspaceDeps,
                message: format!(
                    "{}:{}: dependency `{}` in [{}] {what} (`{}`): pin it once in the root \
                     [workspace.dependencies] and write `{}.workspace = true`",
                    shown_path.display(),
                    dep.line,
                    dep.name,
                    dep.table,
                    dep.text,
                    dep.name
                ),
            }
        })
        .collect()
}

fn cargo_metadata(root: &Path, no_deps: bool) -> Result<Value> {
    let manifest = root.join("Cargo.toml");
    let mut cmd = Command::new(crate::cargo());
    cmd.args(["metadata", "--format-version", "1"]);
    if no_deps {
        cmd.arg("--no-deps");
    }
    cmd.arg("--manifest-path").arg(&manifest);
    let shown = format!(
        "cargo metadata --format-version 1{} --manifest-path {}",
        if no_deps { " --no-deps" } else { "" },
        manifest.display()
    );
    let output = cmd
        .output()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !output.status.success() {
        bail!(
            "`{shown}` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }
    serde_json::from_slice(&output.stdout)
        .with_context(|| format!("parsing the output of `{shown}`"))
}

/// Gathers the real inputs: both metadata documents and every member manifest.
pub fn collect(root: &Path) -> Result<Inputs> {
    let metadata = cargo_metadata(root, true)?;
    let mut manifests = BTreeMap::new();
    for member in members(&metadata)? {
        let text = std::fs::read_to_string(&member.manifest_path)
            .with_context(|| format!("reading {}", member.manifest_path.display()))?;
        manifests.insert(member.manifest_path, text);
    }
    let resolved = Some(cargo_metadata(root, false)?);
    Ok(Inputs {
        metadata,
        resolved,
        manifests,
    })
}

/// `cargo xtask tidy`: prints every violation and fails if there is any.
pub fn run(root: &Path) -> Result<()> {
    let inputs = collect(root)?;
    let count = members(&inputs.metadata)?.len();
    let violations = check(&inputs)?;
    if violations.is_empty() {
        println!("tidy: ok ({count} workspace members checked)");
        return Ok(());
    }
    eprintln!("tidy: {} problem(s):", violations.len());
    for violation in &violations {
        eprintln!("  - {violation}");
    }
    bail!("tidy found {} problem(s)", violations.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dir(name: &str) -> String {
        match name {
            "xtask" => "xtask".to_string(),
            "mlship-e2e" => "tests".to_string(),
            other => format!("crates/{other}"),
        }
    }

    fn id(name: &str) -> String {
        format!("path+file:///ws/{}#{name}@0.1.0", dir(name))
    }

    fn manifest_path(name: &str) -> PathBuf {
        PathBuf::from(format!("/ws/{}/Cargo.toml", dir(name)))
    }

    fn good_manifest(name: &str, deps: &[&str]) -> String {
        let mut text = format!(
            "[package]\nname = \"{name}\"\nversion.workspace = true\nedition.workspace = true\n\n[dependencies]\n"
        );
        for dep in deps {
            text.push_str(dep);
            text.push_str(".workspace = true\n");
        }
        text.push_str("\n[lints]\nworkspace = true\n");
        text
    }

    /// A healthy fabricated workspace: (name, dependencies).
    fn healthy() -> Vec<(String, Vec<String>)> {
        let mut members: Vec<(String, Vec<String>)> = Vec::new();
        members.push((CORE.into(), vec!["serde".into(), "ndarray".into()]));
        for crate_name in LIFECYCLE {
            let mut deps = vec![CORE.to_string()];
            if crate_name == "mlship-preprocess" {
                deps.push("polars".into());
            }
            members.push((crate_name.into(), deps));
        }
        let mut facade: Vec<String> = LIFECYCLE.iter().map(ToString::to_string).collect();
        facade.extend([CORE.to_string(), "polars".into(), "clap".into()]);
        members.push((FACADE.into(), facade));
        members.push((
            "mlship-e2e".into(),
            vec![FACADE.into(), "assert_cmd".into()],
        ));
        members.push(("xtask".into(), vec!["anyhow".into(), "serde_json".into()]));
        members
    }

    fn inputs(members: &[(String, Vec<String>)]) -> Inputs {
        let packages: Vec<Value> = members
            .iter()
            .map(|(name, deps)| {
                json!({
                    "id": id(name),
                    "name": name,
                    "manifest_path": manifest_path(name),
                    "dependencies": deps.iter().map(|d| json!({
                        "name": d, "kind": null, "target": null, "rename": null,
                        "optional": false, "req": "*",
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let ids: Vec<String> = members.iter().map(|(n, _)| id(n)).collect();
        let manifests = members
            .iter()
            .map(|(name, deps)| {
                let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
                (manifest_path(name), good_manifest(name, &deps))
            })
            .collect();
        Inputs {
            metadata: json!({
                "packages": packages,
                "workspace_members": ids,
                "workspace_root": "/ws",
                "resolve": null,
            }),
            resolved: None,
            manifests,
        }
    }

    fn add_dep(members: &mut [(String, Vec<String>)], member: &str, dep: &str) {
        let entry = members
            .iter_mut()
            .find(|(n, _)| n == member)
            .expect("member exists");
        entry.1.push(dep.to_string());
    }

    fn messages(inputs: &Inputs) -> Vec<String> {
        check(inputs)
            .expect("fabricated metadata is well formed")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn tidy_passes_on_the_real_workspace() {
        let root = crate::project_root();
        let inputs = collect(&root).expect("cargo metadata runs on the workspace");
        let names: Vec<String> = members(&inputs.metadata)
            .expect("metadata lists members")
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert!(names.iter().any(|n| n == CORE), "members: {names:?}");
        assert!(names.iter().any(|n| n == "xtask"), "members: {names:?}");
        let violations = check(&inputs).expect("tidy reads the workspace");
        let listed: Vec<String> = violations.iter().map(ToString::to_string).collect();
        assert!(
            violations.is_empty(),
            "tidy found problems:\n{}",
            listed.join("\n")
        );
    }

    #[test]
    fn fabricated_healthy_workspace_passes() {
        assert_eq!(messages(&inputs(&healthy())), Vec::<String>::new());
    }

    #[test]
    fn sibling_dependency_fails() {
        let mut ws = healthy();
        add_dep(&mut ws, "mlship-train", "mlship-evaluate");
        assert_eq!(
            messages(&inputs(&ws)),
            vec![
                "[layering] mlship-train depends on its sibling mlship-evaluate (normal \
                 dependency): a lifecycle crate depends only on mlship-core and outside crates; \
                 siblings meet through mlship-core's traits and the facade mlship wires them"
            ]
        );
    }

    #[test]
    fn dev_dependency_on_a_sibling_or_the_facade_fails_but_on_core_passes() {
        let mut ws = healthy();
        let mut input = {
            add_dep(&mut ws, "mlship-explain", "mlship-train");
            add_dep(&mut ws, "mlship-explain", FACADE);
            inputs(&ws)
        };
        // Turn the two new dependencies and the core one into dev-dependencies.
        let packages = input.metadata["packages"].as_array_mut().expect("array");
        let explain = packages
            .iter_mut()
            .find(|p| p["name"] == "mlship-explain")
            .expect("explain");
        for dep in explain["dependencies"].as_array_mut().expect("array") {
            dep["kind"] = json!("dev");
        }
        assert_eq!(
            messages(&input),
            vec![
                "[layering] mlship-explain depends on its sibling mlship-train (dev-dependency): \
                 a lifecycle crate depends only on mlship-core and outside crates; siblings meet \
                 through mlship-core's traits and the facade mlship wires them",
                "[layering] mlship-explain depends on the facade mlship (dev-dependency): \
                 nothing depends on the facade except mlship-e2e and xtask",
            ]
        );
    }

    #[test]
    fn core_depending_on_a_workspace_crate_fails() {
        let mut ws = healthy();
        add_dep(&mut ws, CORE, "mlship-train");
        assert_eq!(
            messages(&inputs(&ws)),
            vec![
                "[core] mlship-core depends on the workspace crate mlship-train (normal \
                 dependency): mlship-core is the shared vocabulary and depends on no workspace \
                 crate"
            ]
        );
    }

    #[test]
    fn other_member_depending_on_the_facade_fails() {
        let mut ws = healthy();
        ws.push(("mlship-bench".into(), vec![FACADE.into()]));
        assert_eq!(
            messages(&inputs(&ws)),
            vec![
                "[facade] mlship-bench depends on the facade mlship (normal dependency): only \
                 mlship-e2e and xtask may depend on the facade"
            ]
        );
    }

    #[test]
    fn polars_in_serve_fails() {
        let mut ws = healthy();
        add_dep(&mut ws, "mlship-serve", "polars");
        add_dep(&mut ws, "xtask", "polars-core");
        assert_eq!(
            messages(&inputs(&ws)),
            vec![
                "[polars] mlship-serve depends on polars (normal dependency): polars belongs only \
                 in mlship-preprocess and the facade mlship",
                "[polars] xtask depends on polars-core (normal dependency): polars belongs only \
                 in mlship-preprocess and the facade mlship",
            ]
        );
    }

    #[test]
    fn polars_reached_transitively_fails() {
        let ws = healthy();
        let mut input = inputs(&ws);
        let mut resolved = input.metadata.clone();
        let extra = |name: &str| {
            json!({"id": format!("registry+x#{name}@1.0.0"), "name": name,
                   "manifest_path": "/registry/Cargo.toml", "dependencies": []})
        };
        let packages = resolved["packages"].as_array_mut().expect("array");
        for name in ["arrow-glue", "polars-core", "proptest"] {
            packages.push(extra(name));
        }
        let edge = |to: &str, kind: Value| json!({"name": to, "pkg": to, "dep_kinds": [{"kind": kind, "target": null}]});
        let node = |from: &str, deps: Vec<Value>| json!({"id": from, "deps": deps});
        let glue = "registry+x#arrow-glue@1.0.0";
        let polars_core = "registry+x#polars-core@1.0.0";
        let proptest = "registry+x#proptest@1.0.0";
        resolved["resolve"] = json!({
            "nodes": [
                // serve reaches polars-core through a normal dependency: reported.
                node(&id("mlship-serve"), vec![edge(&id(CORE), Value::Null), edge(glue, Value::Null)]),
                node(glue, vec![edge(polars_core, json!("build"))]),
                // monitor reaches it only through a dev-dependency of a dependency: fine.
                node(&id("mlship-monitor"), vec![edge(proptest, json!("dev"))]),
                node(proptest, vec![edge(polars_core, json!("dev"))]),
                node(polars_core, vec![]),
            ],
            "root": null,
        });
        input.resolved = Some(resolved);
        assert_eq!(
            messages(&input),
            vec![
                "[polars] mlship-serve pulls in polars-core through mlship-serve -> arrow-glue -> \
                 polars-core: polars belongs only in mlship-preprocess and the facade mlship"
            ]
        );
    }

    #[test]
    fn manifest_without_workspace_lints_fails() {
        let ws = healthy();
        let mut input = inputs(&ws);
        input.manifests.insert(
            manifest_path("mlship-serve"),
            "[package]\nname = \"mlship-serve\"\n\n[dependencies]\nmlship-core.workspace = true\n\n[lints.clippy]\npedantic = \"warn\"\n".into(),
        );
        assert_eq!(
            messages(&input),
            vec![
                "[lints] crates/mlship-serve/Cargo.toml lacks `[lints] workspace = true`: add it \
                 so the workspace lints apply"
            ]
        );
    }

    #[test]
    fn dependency_bypassing_workspace_dependencies_fails() {
        let ws = healthy();
        let mut input = inputs(&ws);
        input.manifests.insert(
            manifest_path("mlship-registry"),
            "[package]\nname = \"mlship-registry\"\n\n[dependencies]\nmlship-core = { workspace = true }\nserde = \"1\"\n\n[dev-dependencies]\ntempfile = { version = \"3\", path = \"../t\" }\n\n[lints]\nworkspace = true\n".into(),
        );
        assert_eq!(
            messages(&input),
            vec![
                "[workspace-deps] crates/mlship-registry/Cargo.toml:6: dependency `serde` in \
                 [dependencies] sets `version` itself (`serde = \"1\"`): pin it once in the root \
                 [workspace.dependencies] and write `serde.workspace = true`",
                "[workspace-deps] crates/mlship-registry/Cargo.toml:9: dependency `tempfile` in \
                 [dev-dependencies] sets `version`, `path` itself (`tempfile = { version = \"3\", \
                 path = \"../t\" }`): pin it once in the root [workspace.dependencies] and write \
                 `tempfile.workspace = true`",
            ]
        );
    }
}
