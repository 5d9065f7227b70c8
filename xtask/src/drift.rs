//! The spec-drift report: what changed between the committed spec and a candidate.

use std::collections::BTreeMap;
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
        report
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

    /// The human-readable report.
    pub fn render(&self) -> String {
        if self.is_empty() {
            return "No drift: the candidate spec has the same surface as openapi.json.\n".into();
        }
        let mut out = String::from("Spec drift against openapi.json:\n");
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
