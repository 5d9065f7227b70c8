//! Seeded fault injection for `/api` requests.

use std::collections::VecDeque;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::config::{Fault, FaultConfig};

/// Draws one [`Fault`] per `/api` request: scheduled ones first, then random ones
/// from an RNG seeded with [`FaultConfig::seed`].
#[derive(Debug)]
pub(crate) struct FaultInjector {
    config: FaultConfig,
    schedule: VecDeque<Fault>,
    rng: StdRng,
}

impl FaultInjector {
    pub(crate) fn new(config: FaultConfig) -> Self {
        Self {
            schedule: config.schedule.iter().cloned().collect(),
            rng: StdRng::seed_from_u64(config.seed),
            config,
        }
    }

    /// Latency to add to every `/api` request.
    pub(crate) fn latency(&self) -> Duration {
        self.config.latency
    }

    /// The fault for the next `/api` request. Every random draw consumes the same
    /// number of RNG values, so the sequence only depends on the request count.
    pub(crate) fn draw(&mut self) -> Fault {
        if let Some(fault) = self.schedule.pop_front() {
            return fault;
        }
        if self.config.probability <= 0.0 && self.config.drop_after_commit <= 0.0 {
            return Fault::Pass;
        }
        let status_roll: f64 = self.rng.random();
        let pick: u64 = self.rng.random();
        let drop_roll: f64 = self.rng.random();
        if status_roll < self.config.probability {
            let statuses = &self.config.statuses;
            let status = if statuses.is_empty() {
                500
            } else {
                // `pick % len` fits in usize because len does.
                let index = usize::try_from(pick % statuses.len() as u64).unwrap_or(0);
                statuses[index]
            };
            Fault::Status(status)
        } else if drop_roll < self.config.drop_after_commit {
            Fault::DropAfterCommit
        } else {
            Fault::Pass
        }
    }
}
