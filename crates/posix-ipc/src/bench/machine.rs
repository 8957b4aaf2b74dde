//! What machine the figures come from.

use serde::Serialize;

/// The machine, as the report shows it.
#[derive(Debug, Serialize)]
pub struct Machine {
    /// CPU model (`/proc/cpuinfo`).
    pub cpu: String,
    /// CPUs this process may run on.
    pub cpus: usize,
    /// Kernel release.
    pub kernel: String,
    /// Whether the CPU reports running under a hypervisor.
    pub virtualised: bool,
}

/// Reads it now.
pub fn describe() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |key: &str| {
        cpuinfo
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
    };
    Machine {
        cpu: field("model name").unwrap_or_else(|| "unknown".into()),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "unknown".into()),
        virtualised: field("flags")
            .is_some_and(|f| f.split_whitespace().any(|w| w == "hypervisor")),
    }
}
