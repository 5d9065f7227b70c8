//! The spec-drift report: what changed between the committed spec and a candidate.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::surface::{Operation, Schema, Surface};

/// Differences between two surfaces, grouped for a human reader.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DriftReport {
    /// Operations only in the candidate.
    pub operations_added: Vec<String>,
    /// Operations only in the committed spec.
    pub operations_removed: Vec<String>,
    /// `operationId: what changed`.
    pub operations_changed: Vec<String>,
    /// Schemas only in the candidate.
    pub schemas_added: Vec<String>,
    /// Schemas only in the committed spec.
    pub schemas_removed: Vec<String>,
    /// `Schema.field: what changed` (fields added, removed, retyped; enum values).
    pub schemas_changed: Vec<String>,
    /// Every change with its effect on the SDK's public Rust API, in report order.
    pub classified: Vec<(Impact, String)>,
}

/// What a change does to the SDK's public Rust API (the generated crate and what uses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Impact {
    /// Code that compiles and works today may not: an operation or field removed, a field or
    /// response retyped, a new required request field or parameter, an enum value removed.
    Breaking,
    /// Only new things: an operation, an optional field or parameter, an enum value (the enums
    /// are open, so an unknown value already parsed as `Other`), a response field.
    Additive,
}

impl Impact {
    fn label(self) -> &'static str {
        match self {
            Impact::Breaking => "breaking",
            Impact::Additive => "additive",
        }
    }
}

/// The version bump a set of changes calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bump {
    /// Nothing changed.
    None,
    /// Additive changes only.
    Patch,
    /// Breaking changes while the crate is 0.x (Cargo semver: 0.x.y → 0.(x+1).0), or additive
    /// changes from 1.0 on.
    Minor,
    /// Breaking changes from 1.0 on.
    Major,
}

impl DriftReport {
    /// Compares the committed surface with a candidate.
    pub fn compare(committed: &Surface, candidate: &Surface) -> Self {
        let mut report = DriftReport::default();
        let (added, removed, both) = split(&committed.operations, &candidate.operations);
        report.operations_added = added
            .iter()
            .map(|id| describe_op(id, &candidate.operations[*id]))
            .collect();
        report.operations_removed = removed
            .iter()
            .map(|id| describe_op(id, &committed.operations[*id]))
            .collect();
        for id in both {
            report.operations_changed.extend(compare_ops(
                id,
                &committed.operations[id],
                &candidate.operations[id],
            ));
        }
        let (added, removed, both) = split(&committed.schemas, &candidate.schemas);
        report.schemas_added = added.iter().map(|s| s.to_string()).collect();
        report.schemas_removed = removed.iter().map(|s| s.to_string()).collect();
        for name in both {
            report.schemas_changed.extend(compare_schemas(
                name,
                &committed.schemas[name],
                &candidate.schemas[name],
            ));
        }
        report.classified = report.classify(&request_schemas(committed, candidate));
        report
    }

    /// Classifies every change (see [`Impact`]). `request_schemas` are the schemas sent in
    /// request bodies (directly or nested): a new required field there breaks callers.
    fn classify(&self, request_schemas: &BTreeSet<String>) -> Vec<(Impact, String)> {
        use Impact::{Additive, Breaking};
        let mut out = Vec::new();
        out.extend(
            self.operations_added
                .iter()
                .map(|l| (Additive, format!("operation added: {l}"))),
        );
        out.extend(
            self.operations_removed
                .iter()
                .map(|l| (Breaking, format!("operation removed: {l}"))),
        );
        for line in &self.operations_changed {
            let impact = if line.contains(": parameter added/changed: ") {
                // `in name: type!`: a required parameter is a new mandatory builder call.
                if line.ends_with('!') {
                    Breaking
                } else {
                    Additive
                }
            } else if line.contains(": response ") && line.contains(" added: ") {
                Additive
            } else {
                // moved, parameter removed or retyped, request body or response retyped/removed
                Breaking
            };
            out.push((impact, line.clone()));
        }
        out.extend(
            self.schemas_added
                .iter()
                .map(|l| (Additive, format!("schema added: {l}"))),
        );
        out.extend(
            self.schemas_removed
                .iter()
                .map(|l| (Breaking, format!("schema removed: {l}"))),
        );
        for line in &self.schemas_changed {
            let schema = line.split(['.', ':']).next().unwrap_or_default();
            let impact = if line.contains(": field added (") {
                let required = line.trim_end_matches(')').ends_with('!');
                if required && request_schemas.contains(schema) {
                    Breaking
                } else {
                    Additive
                }
            } else if line.contains(": enum value added: ") {
                Additive
            } else {
                // field removed or retyped, kind changed, enum value removed
                Breaking
            };
            out.push((impact, line.clone()));
        }
        out
    }

    /// Counts of breaking and additive changes.
    pub fn counts(&self) -> (usize, usize) {
        let breaking = self
            .classified
            .iter()
            .filter(|(i, _)| *i == Impact::Breaking)
            .count();
        (breaking, self.classified.len() - breaking)
    }

    /// The bump these changes call for from `current` (a semver `major.minor.patch`).
    pub fn bump(&self, current: &str) -> Bump {
        let pre_1 = current.split('.').next() == Some("0");
        match self.counts() {
            (0, 0) => Bump::None,
            (0, _) if pre_1 => Bump::Patch,
            (0, _) => Bump::Minor,
            (_, _) if pre_1 => Bump::Minor,
            _ => Bump::Major,
        }
    }

    /// One line: the counts and the proposed version.
    pub fn summary(&self, current: &str) -> String {
        let (breaking, additive) = self.counts();
        let next = next_version(current, self.bump(current));
        match self.bump(current) {
            Bump::None => format!("No drift: no version bump needed (stays {current})."),
            bump => {
                let why = match bump {
                    Bump::Minor if breaking > 0 => {
                        "minor bump: breaking changes bump the minor version while the crate is 0.x"
                    }
                    Bump::Minor => "minor bump: additive changes",
                    Bump::Major => "major bump: breaking changes",
                    _ => "patch bump: additive changes only (0.x)",
                };
                format!(
                    "Spec drift: {breaking} breaking, {additive} additive change(s); proposed version \
                     {current} -> {next} ({why})."
                )
            }
        }
    }

    /// `true` when nothing differs.
    pub fn is_empty(&self) -> bool {
        self.operations_added.is_empty()
            && self.operations_removed.is_empty()
            && self.operations_changed.is_empty()
            && self.schemas_added.is_empty()
            && self.schemas_removed.is_empty()
            && self.schemas_changed.is_empty()
    }

    /// The human-readable report: the one-line summary (with the version bump proposed from
    /// `current`), the changes by impact, then the changes by kind.
    pub fn render(&self, current: &str) -> String {
        if self.is_empty() {
            return format!(
                "{}\nNo drift: the candidate spec has the same surface as openapi.json.\n",
                self.summary(current)
            );
        }
        let mut out = format!("{}\n", self.summary(current));
        for impact in [Impact::Breaking, Impact::Additive] {
            let lines: Vec<&String> = self
                .classified
                .iter()
                .filter(|(i, _)| *i == impact)
                .map(|(_, l)| l)
                .collect();
            if !lines.is_empty() {
                let _ = writeln!(out, "\n{} ({}):", impact.label(), lines.len());
                for line in lines {
                    let _ = writeln!(out, "  {line}");
                }
            }
        }
        out.push_str("\nSpec drift against openapi.json:\n");
        for (title, lines) in [
            ("Operations added", &self.operations_added),
            ("Operations removed", &self.operations_removed),
            ("Operations changed", &self.operations_changed),
            ("Schemas added", &self.schemas_added),
            ("Schemas removed", &self.schemas_removed),
            ("Schemas changed", &self.schemas_changed),
        ] {
            if !lines.is_empty() {
                let _ = writeln!(out, "\n{title} ({}):", lines.len());
                for line in lines {
                    let _ = writeln!(out, "  {line}");
                }
            }
        }
        out
    }
}

/// `current` bumped: `0.1.4` + patch = `0.1.5`, + minor = `0.2.0`, + major = `1.0.0`. An
/// unparsable version is returned with the bump named.
pub fn next_version(current: &str, bump: Bump) -> String {
    let parts: Vec<u64> = current
        .split('.')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    let [major, minor, patch] = parts[..] else {
        return format!("{current} ({bump:?} bump)");
    };
    match bump {
        Bump::None => current.to_string(),
        Bump::Patch => format!("{major}.{minor}.{}", patch + 1),
        Bump::Minor => format!("{major}.{}.0", minor + 1),
        Bump::Major => format!("{}.0.0", major + 1),
    }
}

/// Schemas sent in request bodies, directly or nested in one, in either spec.
fn request_schemas(committed: &Surface, candidate: &Surface) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for surface in [committed, candidate] {
        let mut queue: Vec<String> = surface
            .operations
            .values()
            .filter_map(|op| op.request.as_deref())
            .flat_map(|r| names_in(r, surface))
            .collect();
        while let Some(name) = queue.pop() {
            if !found.insert(name.clone()) {
                continue;
            }
            if let Some(schema) = surface.schemas.get(&name) {
                queue.extend(schema.fields.values().flat_map(|t| names_in(t, surface)));
            }
        }
    }
    found
}

/// Schema names mentioned in a type expression such as `application/json array<Customer>!`.
fn names_in(expression: &str, surface: &Surface) -> Vec<String> {
    expression
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| surface.schemas.contains_key(*w))
        .map(str::to_string)
        .collect()
}

fn split<'a, V>(
    old: &'a BTreeMap<String, V>,
    new: &'a BTreeMap<String, V>,
) -> (Vec<&'a String>, Vec<&'a String>, Vec<&'a String>) {
    let added = new.keys().filter(|k| !old.contains_key(*k)).collect();
    let removed = old.keys().filter(|k| !new.contains_key(*k)).collect();
    let both = old.keys().filter(|k| new.contains_key(*k)).collect();
    (added, removed, both)
}

fn describe_op(id: &str, op: &Operation) -> String {
    format!("{id} ({} {})", op.method, op.path)
}

fn compare_ops(id: &str, old: &Operation, new: &Operation) -> Vec<String> {
    let mut changes = Vec::new();
    if old.method != new.method || old.path != new.path {
        changes.push(format!(
            "{id}: moved from {} {} to {} {}",
            old.method, old.path, new.method, new.path
        ));
    }
    for p in new
        .parameters
        .iter()
        .filter(|p| !old.parameters.contains(p))
    {
        changes.push(format!("{id}: parameter added/changed: {p}"));
    }
    for p in old
        .parameters
        .iter()
        .filter(|p| !new.parameters.contains(p))
    {
        changes.push(format!("{id}: parameter removed/changed: {p}"));
    }
    if old.request != new.request {
        changes.push(format!(
            "{id}: request body {} -> {}",
            old.request.as_deref().unwrap_or("none"),
            new.request.as_deref().unwrap_or("none")
        ));
    }
    let codes: std::collections::BTreeSet<&String> =
        old.responses.keys().chain(new.responses.keys()).collect();
    for code in codes {
        match (old.responses.get(code), new.responses.get(code)) {
            (Some(a), Some(b)) if a != b => {
                changes.push(format!("{id}: response {code} {a} -> {b}"))
            }
            (None, Some(b)) => changes.push(format!("{id}: response {code} added: {b}")),
            (Some(a), None) => changes.push(format!("{id}: response {code} removed (was {a})")),
            _ => {}
        }
    }
    changes
}

fn compare_schemas(name: &str, old: &Schema, new: &Schema) -> Vec<String> {
    let mut changes = Vec::new();
    if old.kind != new.kind {
        changes.push(format!("{name}: kind {} -> {}", old.kind, new.kind));
    }
    let (added, removed, both) = split(&old.fields, &new.fields);
    changes.extend(
        added
            .iter()
            .map(|f| format!("{name}.{f}: field added ({})", new.fields[*f])),
    );
    changes.extend(
        removed
            .iter()
            .map(|f| format!("{name}.{f}: field removed (was {})", old.fields[*f])),
    );
    for f in both {
        if old.fields[f] != new.fields[f] {
            changes.push(format!(
                "{name}.{f}: retyped {} -> {}",
                old.fields[f], new.fields[f]
            ));
        }
    }
    changes.extend(
        new.values
            .iter()
            .filter(|v| !old.values.contains(v))
            .map(|v| format!("{name}: enum value added: {v}")),
    );
    changes.extend(
        old.values
            .iter()
            .filter(|v| !new.values.contains(v))
            .map(|v| format!("{name}: enum value removed: {v}")),
    );
    changes
}
