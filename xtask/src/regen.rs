//! `cargo xtask regen [--check]`: write the generated crate, or verify the committed one.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::codegen::{self, GeneratedFile};

/// Workspace root (the parent of the xtask crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Regenerates `luxcore-api/src` from `root/openapi.json`; returns the files written.
pub fn regen(root: &Path) -> Result<Vec<PathBuf>, String> {
    let files = generate_from(root)?;
    let dir = root.join(codegen::OUTPUT_DIR);
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for stale in unexpected_files(root, &files) {
        fs::remove_file(root.join(&stale)).map_err(|e| format!("{}: {e}", stale.display()))?;
    }
    for file in &files {
        fs::write(root.join(&file.path), &file.content)
            .map_err(|e| format!("{}: {e}", file.path.display()))?;
    }
    Ok(files.into_iter().map(|f| f.path).collect())
}

/// Compares the committed generated files with a fresh generation. `Ok(None)` when up to date,
/// `Ok(Some(summary))` when stale or edited by hand.
pub fn check(root: &Path) -> Result<Option<String>, String> {
    let files = generate_from(root)?;
    let mut summary = String::new();
    for file in &files {
        match fs::read_to_string(root.join(&file.path)) {
            Ok(committed) if committed == file.content => {}
            Ok(committed) => summary.push_str(&diff_summary(&file.path, &committed, &file.content)),
            Err(_) => {
                let _ = writeln!(summary, "{}: missing", file.path.display());
            }
        }
    }
    for extra in unexpected_files(root, &files) {
        let _ = writeln!(
            summary,
            "{}: not produced by the generator (remove it or change xtask)",
            extra.display()
        );
    }
    Ok((!summary.is_empty()).then_some(summary))
}

fn generate_from(root: &Path) -> Result<Vec<GeneratedFile>, String> {
    let spec_path = root.join("openapi.json");
    let spec = fs::read(&spec_path).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    codegen::generate(&spec).map_err(|e| e.to_string())
}

fn unexpected_files(root: &Path, files: &[GeneratedFile]) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(root.join(codegen::OUTPUT_DIR)) else {
        return Vec::new();
    };
    let mut extra: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| PathBuf::from(codegen::OUTPUT_DIR).join(e.file_name()))
        .filter(|p| !files.iter().any(|f| &f.path == p))
        .collect();
    extra.sort();
    extra
}

/// A short summary of how `committed` differs from `expected`: line counts, lines only on each
/// side, and the first differing line.
pub fn diff_summary(path: &Path, committed: &str, expected: &str) -> String {
    let old: Vec<&str> = committed.lines().collect();
    let new: Vec<&str> = expected.lines().collect();
    let only_old = count_missing(&old, &new);
    let only_new = count_missing(&new, &old);
    let mut out = format!(
        "{}: stale or edited by hand ({} committed lines, {} expected; -{only_old} +{only_new} lines)\n",
        path.display(),
        old.len(),
        new.len()
    );
    if let Some(i) = (0..old.len().max(new.len())).find(|&i| old.get(i) != new.get(i)) {
        let _ = writeln!(out, "  first difference at line {}:", i + 1);
        let _ = writeln!(out, "  - {}", old.get(i).unwrap_or(&"<end of file>"));
        let _ = writeln!(out, "  + {}", new.get(i).unwrap_or(&"<end of file>"));
    }
    out
}

/// Lines of `a` (as a multiset) not matched in `b`.
fn count_missing(a: &[&str], b: &[&str]) -> usize {
    let mut pool: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for line in b {
        *pool.entry(line).or_default() += 1;
    }
    a.iter()
        .filter(|line| match pool.get_mut(*line) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .count()
}
