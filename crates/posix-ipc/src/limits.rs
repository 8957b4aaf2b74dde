//! `posix-ipc limits`: every limit that decides whether an IPC call succeeds, as
//! `ipc_core::limits::all` reads them (the same `Limit` an error names).

use ipc_core::limits::{Amount, Limit};
use serde::Serialize;

use crate::cli::JsonArg;
use crate::failure::Failure;
use crate::render::{json, out};

/// One limit as `--json` shows it: numbers as numbers.
#[derive(Debug, Serialize)]
struct Shown {
    name: &'static str,
    what: &'static str,
    /// A number, or `"unlimited"` / `"unknown"`.
    value: serde_json::Value,
    /// The hard limit of an rlimit, up to which a process may raise `value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    hard: Option<serde_json::Value>,
    unit: &'static str,
    source: &'static str,
    change: &'static str,
    at_the_limit: &'static str,
}

fn json_amount(amount: Amount) -> serde_json::Value {
    match amount {
        Amount::Number(n) => n.into(),
        other => other.to_string().into(),
    }
}

/// `1 MiB (1048576 bytes)` for a size, the number for a count.
pub fn human(amount: Amount, bytes: bool) -> String {
    match amount {
        Amount::Number(n) if bytes => {
            let units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
            let mut value = n as f64;
            let mut unit = 0;
            while value >= 1024.0 && unit + 1 < units.len() {
                value /= 1024.0;
                unit += 1;
            }
            if unit == 0 {
                format!("{n} bytes")
            } else {
                format!("{value:.1} {} ({n} bytes)", units[unit])
            }
        }
        other => other.to_string(),
    }
}

fn shown(limit: &Limit) -> Shown {
    Shown {
        name: limit.name,
        what: limit.what,
        value: json_amount(limit.value),
        hard: limit.hard.map(json_amount),
        unit: if limit.bytes { "bytes" } else { "count" },
        source: limit.source,
        change: limit.change,
        at_the_limit: limit.error,
    }
}

/// `posix-ipc limits`.
pub fn limits(args: JsonArg) -> Result<(), Failure> {
    let limits = ipc_core::limits::all();
    if args.json {
        json(&limits.iter().map(shown).collect::<Vec<_>>());
        return Ok(());
    }
    let mut text = String::new();
    for limit in &limits {
        text.push_str(&format!(
            "{} ({})\n  value:  {}",
            limit.name,
            limit.what,
            human(limit.value, limit.bytes)
        ));
        if let Some(hard) = limit.hard {
            text.push_str(&format!(", hard limit {}", human(hard, limit.bytes)));
        }
        text.push_str(&format!("\n  from:   {}\n", limit.source));
        if !limit.change.is_empty() {
            text.push_str(&format!("  change: {}\n", limit.change));
        }
        if !limit.error.is_empty() {
            text.push_str(&format!("  at the limit: {}\n", limit.error));
        }
    }
    out(text.as_bytes());
    Ok(())
}
