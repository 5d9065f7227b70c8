//! `cargo xtask`: regenerate `luxcore-api`, check it, fetch the live spec, report spec drift,
//! check the declared MSRV, run every test with real servers.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::{codegen, drift::DriftReport, fetch, msrv, regen, surface::Surface, test_run};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "luxcore-rs build tasks")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Regenerate luxcore-api from openapi.json.
    Regen {
        /// Fail (non-zero exit) if the committed code is stale or edited by hand; write nothing.
        #[arg(long, conflicts_with = "fetch")]
        check: bool,
        /// Download the spec first (default: the live LuxCore URL), then regenerate.
        #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = fetch::LIVE_SPEC_URL)]
        fetch: Option<String>,
    },
    /// Compare a candidate spec with openapi.json; non-zero exit on drift.
    Drift {
        /// Download the candidate from this URL (default: the live LuxCore URL).
        #[arg(long, conflicts_with = "spec")]
        url: Option<String>,
        /// Read the candidate from this file.
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Also write the report to this file (e.g. for a CI artifact).
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Check each published crate's declared `rust-version` against the highest one of its
    /// dependency tree as resolved in Cargo.lock (default and all features; computed from
    /// `cargo metadata`, not compiled). Non-zero exit when a declaration is too low.
    Msrv,
    /// Run every test: start redis-server and PostgreSQL (installed when missing) on free
    /// loopback ports with temporary data, run `cargo test --workspace --all-features`,
    /// stop them (also on failure or Ctrl-C).
    Test {
        /// Passed on to `cargo test` (e.g. `-- --nocapture`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let root = regen::workspace_root();
    let result = match Cli::parse().command {
        Cmd::Regen { check: true, .. } => match regen::check(&root) {
            Ok(None) => {
                println!("luxcore-api is up to date with openapi.json");
                Ok(())
            }
            Ok(Some(summary)) => Err(format!(
                "{summary}luxcore-api is stale: run `cargo xtask regen` and commit the result"
            )),
            Err(e) => Err(e),
        },
        Cmd::Regen {
            check: false,
            fetch: url,
        } => fetch_then_regen(&root, url.as_deref()),
        Cmd::Drift { url, spec, output } => drift(&root, url, spec, output),
        Cmd::Msrv => msrv::run(&root),
        Cmd::Test { args } => test_run::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn fetch_then_regen(root: &std::path::Path, url: Option<&str>) -> Result<(), String> {
    if let Some(url) = url {
        let bytes = fetch::fetch_spec(url)?;
        // Prove the new spec generates before touching the committed one.
        codegen::generate(&bytes).map_err(|e| {
            format!("the downloaded spec does not generate: {e}; openapi.json left unchanged")
        })?;
        std::fs::write(root.join("openapi.json"), &bytes)
            .map_err(|e| format!("writing openapi.json: {e}"))?;
        println!("fetched {url} ({} bytes) into openapi.json", bytes.len());
    }
    let written = regen::regen(root)?;
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn drift(
    root: &std::path::Path,
    url: Option<String>,
    spec: Option<PathBuf>,
    output: Option<PathBuf>,
) -> Result<(), String> {
    let candidate = match spec {
        Some(path) => {
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            fetch::validate(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            bytes
        }
        None => fetch::fetch_spec(url.as_deref().unwrap_or(fetch::LIVE_SPEC_URL))?,
    };
    let committed =
        std::fs::read(root.join("openapi.json")).map_err(|e| format!("openapi.json: {e}"))?;
    let parse =
        |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).map_err(|e| e.to_string());
    let report = DriftReport::compare(
        &Surface::of(&parse(&committed)?),
        &Surface::of(&parse(&candidate)?),
    );
    // The SDK crates share the workspace version, which is xtask's too.
    let rendered = report.render(env!("CARGO_PKG_VERSION"));
    print!("{rendered}");
    if let Some(path) = output {
        std::fs::write(&path, &rendered).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err("spec drift detected".into())
    }
}
