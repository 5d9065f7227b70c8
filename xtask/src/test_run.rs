//! `cargo xtask test`: starts the servers ([`crate::servers`]), runs
//! `cargo test --workspace --all-features` with their URLs, and stops them afterwards:
//! after a failed run, a panic, a Ctrl-C (SIGINT) or a SIGTERM/SIGHUP too.
//!
//! Signals: the handler only records the signal and forwards it to the test run's process
//! group (cargo and the test binaries); the test run then ends, and [`Servers`]' drop
//! stops the servers and removes their directory before xtask exits.

use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};

use crate::servers::Servers;

/// The signal received (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// The process group of the running `cargo test` (0: none yet).
static TEST_GROUP: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    SIGNAL.store(signal, Ordering::SeqCst);
    let group = TEST_GROUP.load(Ordering::SeqCst);
    if group > 0 {
        // SAFETY: kill(2) is async-signal-safe; the group is our child's.
        unsafe {
            libc::kill(-group, signal);
        }
    }
}

fn install_handlers() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only touches atomics and calls kill(2), both
        // async-signal-safe.
        unsafe {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
        }
    }
}

fn interrupted() -> Result<(), String> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => Ok(()),
        signal => Err(format!("interrupted by signal {signal}")),
    }
}

/// The `cargo test` command line run with the servers up.
pub fn cargo_test_args(extra: &[String]) -> Vec<String> {
    let mut args: Vec<String> = ["test", "--workspace", "--all-features"]
        .map(String::from)
        .to_vec();
    args.extend(extra.iter().cloned());
    args
}

/// Runs the whole suite with real servers; `extra` goes to `cargo test` (e.g. `-- --nocapture`).
pub fn run(extra: &[String]) -> Result<(), String> {
    install_handlers();
    let servers = Servers::start()?;
    interrupted()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let args = cargo_test_args(extra);
    eprintln!("xtask: cargo {}", args.join(" "));
    let status = run_in_own_group(Command::new(cargo).args(&args).envs(servers.env()))?;
    drop(servers);
    interrupted()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed ({status})", args.join(" ")))
    }
}

fn run_in_own_group(command: &mut Command) -> Result<ExitStatus, String> {
    use std::os::unix::process::CommandExt;
    let mut child = command
        .process_group(0)
        .spawn()
        .map_err(|e| format!("could not run cargo test: {e}"))?;
    TEST_GROUP.store(i32::try_from(child.id()).unwrap_or(0), Ordering::SeqCst);
    // A signal that came between spawn and the store above is forwarded here.
    if let signal @ 1.. = SIGNAL.load(Ordering::SeqCst) {
        on_signal(signal);
    }
    let status = child.wait().map_err(|e| e.to_string());
    TEST_GROUP.store(0, Ordering::SeqCst);
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_every_feature_of_every_crate() {
        assert_eq!(
            cargo_test_args(&["--".into(), "--nocapture".into()]),
            ["test", "--workspace", "--all-features", "--", "--nocapture"]
        );
    }
}
