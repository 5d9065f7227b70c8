//! `cargo xtask msrv`: is each published crate's declared `rust-version` honest?
//!
//! Computed, not compiled (one toolchain per machine): for the default features and for all
//! features, `cargo metadata --locked` gives the dependency graph as resolved in `Cargo.lock`.
//! From each published crate (a workspace member without `publish = false`) the walk follows
//! normal and build dependencies, for every target platform, never dev-dependencies (they do
//! not reach users). Each package reached needs at least its `rust-version`, and at least the
//! first Rust of its edition (2024: 1.85) when it declares none. The crate's floor is the
//! maximum; the check fails when it is above the crate's declared `rust-version`.
//!
//! `cargo metadata` unifies features over the whole workspace (dev-dependencies included), so
//! the graph is a superset of what a user's build resolves: the floor is never too low.
//! What the crate's own code needs (a let chain: 1.88) is clippy's `incompatible_msrv` for std
//! APIs and the compiler's for syntax; this check covers the dependencies.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// A Rust release, `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RustVersion {
    /// Always 1 so far.
    pub major: u64,
    /// The release that matters.
    pub minor: u64,
    /// Point releases.
    pub patch: u64,
}

impl RustVersion {
    /// Parses `1.88`, `1.85.0` (Cargo's `rust-version` syntax).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        if parts.next().is_some() {
            return None;
        }
        Some(RustVersion {
            major,
            minor,
            patch,
        })
    }

    /// The first Rust release that compiles this edition.
    pub fn of_edition(edition: &str) -> Option<Self> {
        let minor = match edition {
            "2015" => 0,
            "2018" => 31,
            "2021" => 56,
            "2024" => 85,
            _ => return None,
        };
        Some(RustVersion {
            major: 1,
            minor,
            patch: 0,
        })
    }
}

impl fmt::Display for RustVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if self.patch != 0 {
            write!(f, ".{}", self.patch)?;
        }
        Ok(())
    }
}

/// One published crate's computed floor, for one feature set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Floor {
    /// The published crate.
    pub krate: String,
    /// Its declared `rust-version` (`None`: not declared).
    pub declared: Option<RustVersion>,
    /// The highest Rust any package of its dependency tree needs.
    pub needed: RustVersion,
    /// The dependencies that need exactly [`Self::needed`], as `name version`.
    pub set_by: BTreeSet<String>,
    /// Packages in the tree (workspace crates excluded).
    pub dependencies: usize,
    /// Of those, the ones that declare no `rust-version` (their edition's floor is used).
    pub undeclared: usize,
}

impl Floor {
    /// Whether the declaration is at least the computed floor.
    pub fn is_honest(&self) -> bool {
        self.declared
            .is_some_and(|declared| declared >= self.needed)
    }
}

struct Package<'a> {
    name: &'a str,
    version: &'a str,
    declared: Option<RustVersion>,
    needs: Option<RustVersion>,
    member: bool,
    published: bool,
}

/// The floor of every published workspace crate in one `cargo metadata` document.
pub fn floors(metadata: &Value) -> Result<Vec<Floor>, String> {
    let members: HashSet<&str> = metadata["workspace_members"]
        .as_array()
        .ok_or("cargo metadata: no `workspace_members`")?
        .iter()
        .filter_map(Value::as_str)
        .collect();

    let mut packages = HashMap::new();
    for package in metadata["packages"]
        .as_array()
        .ok_or("cargo metadata: no `packages`")?
    {
        let id = package["id"]
            .as_str()
            .ok_or("cargo metadata: a package without id")?;
        let declared = package["rust_version"]
            .as_str()
            .and_then(RustVersion::parse);
        let edition = package["edition"]
            .as_str()
            .and_then(RustVersion::of_edition);
        // `publish`: null = anywhere, [] = `publish = false`, [..] = those registries.
        let member = members.contains(id);
        let published = member && package["publish"].as_array().is_none_or(|r| !r.is_empty());
        packages.insert(
            id,
            Package {
                name: package["name"].as_str().unwrap_or(id),
                version: package["version"].as_str().unwrap_or("?"),
                declared,
                needs: declared.max(edition),
                member,
                published,
            },
        );
    }

    // Normal and build edges of the resolved graph.
    let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
    let nodes = metadata["resolve"]["nodes"]
        .as_array()
        .ok_or("cargo metadata: no resolved graph (`resolve.nodes`)")?;
    for node in nodes {
        let id = node["id"]
            .as_str()
            .ok_or("cargo metadata: a node without id")?;
        let deps = node["deps"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let reached = deps.iter().filter(|dep| {
            dep["dep_kinds"].as_array().is_some_and(|kinds| {
                kinds
                    .iter()
                    .any(|k| k["kind"].is_null() || k["kind"].as_str() == Some("build"))
            })
        });
        edges
            .entry(id)
            .or_default()
            .extend(reached.filter_map(|dep| dep["pkg"].as_str()));
    }

    let mut published: Vec<&str> = packages
        .iter()
        .filter(|(_, package)| package.published)
        .map(|(id, _)| *id)
        .collect();
    published.sort_by_key(|id| packages[id].name);
    let mut out = Vec::new();
    for root in published {
        let mut seen = HashSet::from([root]);
        let mut queue = VecDeque::from([root]);
        let mut floor = Floor {
            krate: packages[root].name.to_owned(),
            declared: packages[root].declared,
            needed: RustVersion::of_edition("2015").expect("known edition"),
            set_by: BTreeSet::new(),
            dependencies: 0,
            undeclared: 0,
        };
        while let Some(id) = queue.pop_front() {
            for &dep in edges.get(id).map(Vec::as_slice).unwrap_or_default() {
                if seen.insert(dep) {
                    queue.push_back(dep);
                }
            }
            let package = packages.get(id).ok_or_else(|| {
                format!("cargo metadata: {id} is in the graph, not in `packages`")
            })?;
            // Workspace crates are walked through; their own declarations are checked as
            // roots of their own.
            if package.member {
                continue;
            }
            floor.dependencies += 1;
            floor.undeclared += usize::from(package.declared.is_none());
            let Some(needs) = package.needs else { continue };
            let label = format!("{} {}", package.name, package.version);
            if needs > floor.needed {
                floor.needed = needs;
                floor.set_by = BTreeSet::from([label]);
            } else if needs == floor.needed {
                floor.set_by.insert(label);
            }
        }
        out.push(floor);
    }
    Ok(out)
}

/// Runs `cargo metadata --locked` (default features, then all features) in `root` and checks
/// every published crate; `Err` names each crate whose declaration is too low.
pub fn run(root: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut failures = Vec::new();
    for (label, flags) in [
        ("default features", &[][..]),
        ("all features", &["--all-features"][..]),
    ] {
        let output = Command::new(&cargo)
            .current_dir(root)
            .args(["metadata", "--format-version", "1", "--locked"])
            .args(flags)
            .output()
            .map_err(|e| format!("could not run cargo metadata: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "cargo metadata --locked {} failed: {}",
                flags.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let metadata: Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| format!("cargo metadata: not JSON: {e}"))?;
        println!("{label}:");
        for floor in floors(&metadata)? {
            let declared = floor
                .declared
                .map_or_else(|| "none".to_owned(), |v| v.to_string());
            let verdict = if floor.is_honest() { "ok" } else { "TOO LOW" };
            let note = match floor.declared {
                Some(declared) if declared > floor.needed => " (above the dependencies: own code)",
                _ => "",
            };
            println!(
                "  {:<14} declares {declared:<6} needs {:<6} {verdict}{note}\n    {} dependencies \
                 ({} without a rust-version); the highest: {}",
                floor.krate,
                floor.needed.to_string(),
                floor.dependencies,
                floor.undeclared,
                floor.set_by.iter().cloned().collect::<Vec<_>>().join(", "),
            );
            if !floor.is_honest() {
                failures.push(format!(
                    "{} ({label}) declares rust-version {declared} but its dependencies need {}",
                    floor.krate, floor.needed
                ));
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(text: &str) -> RustVersion {
        RustVersion::parse(text).unwrap()
    }

    fn package(name: &str, rust_version: Option<&str>, edition: &str, publish: Value) -> Value {
        json!({
            "name": name, "version": "1.0.0", "id": format!("{name}-id"),
            "rust_version": rust_version, "edition": edition, "publish": publish,
        })
    }

    fn edge(to: &str, kind: &Value) -> Value {
        json!({ "name": to, "pkg": format!("{to}-id"), "dep_kinds": [kind] })
    }

    /// `app` (published, declares 1.80) -> `normal` (1.70) -> `deep` (1.83, behind a
    /// target-specific edge); `app` -> `builder` (build dep, no rust-version, edition 2021);
    /// `app` -> `devonly` (dev dep, 1.95); `tool` (publish = false) -> `newer` (1.99);
    /// `app` -> `lib` (a workspace crate declaring 1.99) -> `normal`.
    fn fixture(app_declares: &str) -> Value {
        let normal = json!({ "kind": null, "target": null });
        let build = json!({ "kind": "build", "target": null });
        let dev = json!({ "kind": "dev", "target": null });
        let windows = json!({ "kind": null, "target": "cfg(windows)" });
        json!({
            "workspace_members": ["app-id", "tool-id", "lib-id"],
            "packages": [
                package("app", Some(app_declares), "2021", Value::Null),
                package("tool", Some("1.60"), "2021", json!([])),
                package("normal", Some("1.70.0"), "2021", Value::Null),
                package("deep", Some("1.83"), "2021", Value::Null),
                package("builder", None, "2021", Value::Null),
                package("devonly", Some("1.95"), "2024", Value::Null),
                package("newer", Some("1.99"), "2024", Value::Null),
                package("lib", Some("1.99"), "2024", Value::Null),
            ],
            "resolve": { "nodes": [
                { "id": "app-id", "deps": [
                    edge("normal", &normal),
                    edge("builder", &build),
                    edge("devonly", &dev),
                    edge("lib", &normal),
                ]},
                { "id": "lib-id", "deps": [edge("normal", &normal)] },
                { "id": "normal-id", "deps": [edge("deep", &windows)] },
                { "id": "tool-id", "deps": [edge("newer", &normal)] },
                { "id": "deep-id", "deps": [] },
                { "id": "builder-id", "deps": [] },
                { "id": "devonly-id", "deps": [] },
                { "id": "newer-id", "deps": [] },
            ]},
        })
    }

    #[test]
    fn versions_parse_compare_and_print() {
        assert_eq!(v("1.88"), v("1.88.0"));
        assert!(v("1.88") > v("1.87.1"));
        assert!(v("1.100") > v("1.99"));
        assert_eq!(v("1.85.1").to_string(), "1.85.1");
        assert_eq!(v("1.88.0").to_string(), "1.88");
        for bad in ["", "1.x", "1.2.3.4", "stable"] {
            assert_eq!(RustVersion::parse(bad), None, "{bad}");
        }
        assert_eq!(RustVersion::of_edition("2024"), Some(v("1.85")));
        assert_eq!(RustVersion::of_edition("2021"), Some(v("1.56")));
        assert_eq!(RustVersion::of_edition("2027"), None);
    }

    #[test]
    fn the_floor_is_the_highest_normal_or_build_dependency() {
        let floors = floors(&fixture("1.83")).unwrap();
        // `tool` is not published; `devonly` and `newer` are not in `app`'s tree; `lib` is
        // checked as a root of its own, and not counted in `app`'s tree.
        let names: Vec<&str> = floors.iter().map(|f| f.krate.as_str()).collect();
        assert_eq!(names, ["app", "lib"]);
        assert_eq!(floors[1].needed, v("1.83"));
        let app = &floors[0];
        assert_eq!(app.krate, "app");
        assert_eq!(app.needed, v("1.83"));
        assert_eq!(app.set_by, BTreeSet::from(["deep 1.0.0".to_owned()]));
        assert_eq!((app.dependencies, app.undeclared), (3, 1));
        assert!(app.is_honest());
    }

    #[test]
    fn a_declaration_below_the_floor_fails() {
        let app = floors(&fixture("1.80")).unwrap().remove(0);
        assert_eq!(app.declared, Some(v("1.80")));
        assert!(!app.is_honest());
        // Above the floor is honest (the crate's own code may need more).
        assert!(floors(&fixture("1.88")).unwrap()[0].is_honest());
    }

    #[test]
    fn an_undeclared_rust_version_counts_as_its_editions_floor() {
        let mut metadata = fixture("1.90");
        // `builder` moves to edition 2024 (1.85): above `deep`'s 1.83.
        metadata["packages"][4]["edition"] = json!("2024");
        let app = floors(&metadata).unwrap().remove(0);
        assert_eq!(app.needed, v("1.85"));
        assert_eq!(app.set_by, BTreeSet::from(["builder 1.0.0".to_owned()]));
        // A crate that declares nothing is never honest.
        metadata["packages"][0]["rust_version"] = Value::Null;
        assert!(!floors(&metadata).unwrap()[0].is_honest());
    }

    #[test]
    fn ties_are_all_named() {
        let mut metadata = fixture("1.90");
        metadata["packages"][2]["rust_version"] = json!("1.83.0");
        let app = floors(&metadata).unwrap().remove(0);
        assert_eq!(
            app.set_by,
            BTreeSet::from(["deep 1.0.0".to_owned(), "normal 1.0.0".to_owned()])
        );
    }

    #[test]
    fn a_document_without_a_resolved_graph_is_an_error() {
        let mut metadata = fixture("1.90");
        metadata.as_object_mut().unwrap().remove("resolve");
        assert!(floors(&metadata).unwrap_err().contains("resolve"));
    }
}
