//! The demos' object names, and how several people share one machine.
//!
//! By default every demo uses its C original's names (`/ep_mq_lifecycle`), so its
//! output matches the C program's. On a machine where several people run the
//! demos, those names collide: a second run finds the first run's objects (and
//! leaves them alone, see [`crate::stale`]). Setting [`PREFIX_VARIABLE`] gives one
//! person's runs names of their own: with `POSIX_IPC_LAB_PREFIX=alice_`,
//! `/ep_mq_lifecycle` becomes `/alice_ep_mq_lifecycle`.

use ipc_core::Name;

/// The environment variable that puts a prefix before every demo's object names.
pub const PREFIX_VARIABLE: &str = "POSIX_IPC_LAB_PREFIX";

/// Longest prefix: short enough that every demo name still fits a semaphore name.
pub const PREFIX_MAX: usize = 64;

/// The name a demo uses for its C original's `c_name` (such as `"/ep_exclusive"`):
/// `c_name` itself, or with the prefix from [`PREFIX_VARIABLE`] after its '/'.
/// A bad prefix (or a bad `c_name`) is a usage error: printed, exit status 2.
pub fn object_name(c_name: &str) -> Name {
    let prefix = std::env::var_os(PREFIX_VARIABLE).unwrap_or_default();
    match prefixed(c_name, prefix.to_str()) {
        Ok(name) => name,
        Err(why) => {
            let program = std::env::args().next().unwrap_or_default();
            let program = program.rsplit('/').next().unwrap_or_default();
            crate::errln!("{program}: {why}");
            std::process::exit(2)
        }
    }
}

/// `text`, which names the C objects (`/ep_safe_shm`, `sem.ep_shm_lock`,
/// `/dev/mqueue/ep_nonblock_mq`, as a `--step` pause tells where to look), with the
/// prefix from [`PREFIX_VARIABLE`] before each `ep_` that starts a word, so it
/// names the objects this run makes. Unchanged without a prefix, or with one
/// [`object_name`] refuses.
pub fn in_own_names(text: &str) -> String {
    let prefix = std::env::var_os(PREFIX_VARIABLE).unwrap_or_default();
    match checked(prefix.to_str()) {
        Ok(prefix) => with_prefix(text, prefix),
        Err(_) => text.to_string(),
    }
}

/// `text` with `prefix` before each `ep_` that starts a word.
fn with_prefix(text: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word_start = true;
    for (at, c) in text.char_indices() {
        if word_start && text[at..].starts_with("ep_") {
            out.push_str(prefix);
        }
        word_start = !c.is_alphanumeric() && c != '_';
        out.push(c);
    }
    out
}

/// `prefix` if it is one the names may take (`None` for a value that is not UTF-8).
fn checked(prefix: Option<&str>) -> Result<&str, String> {
    let prefix = prefix.ok_or_else(|| format!("{PREFIX_VARIABLE} is not UTF-8"))?;
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if !prefix.chars().all(ok) || prefix.len() > PREFIX_MAX {
        return Err(format!(
            "{PREFIX_VARIABLE}='{}': use at most {PREFIX_MAX} letters, digits, '_', '-' or '.'",
            prefix.escape_debug()
        ));
    }
    Ok(prefix)
}

/// `c_name` with `prefix` after its '/' (`None` for a value that is not UTF-8).
fn prefixed(c_name: &str, prefix: Option<&str>) -> Result<Name, String> {
    let prefix = checked(prefix)?;
    let rest = c_name.strip_prefix('/').unwrap_or(c_name);
    let name = Name::new(&format!("/{prefix}{rest}")).map_err(|e| format!("{c_name}: {e}"))?;
    name.check_semaphore().map_err(|e| format!("{name}: {e}"))?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_c_name() {
        assert_eq!(
            prefixed("/ep_exclusive", Some("")).unwrap().to_string(),
            "/ep_exclusive"
        );
    }

    #[test]
    fn a_prefix_goes_after_the_slash() {
        let name = prefixed("/ep_mq_lifecycle", Some("alice_")).unwrap();
        assert_eq!(name.to_string(), "/alice_ep_mq_lifecycle");
    }

    #[test]
    fn step_texts_name_the_prefixed_objects() {
        let look =
            "ls -l /dev/shm: ep_safe_shm and sem.ep_shm_lock; cat /dev/mqueue/ep_q; keep_ep_x";
        assert_eq!(
            with_prefix(look, "alice_"),
            "ls -l /dev/shm: alice_ep_safe_shm and sem.alice_ep_shm_lock; \
             cat /dev/mqueue/alice_ep_q; keep_ep_x"
        );
        assert_eq!(
            with_prefix("shm_open(\"/ep_x\")", ""),
            "shm_open(\"/ep_x\")"
        );
    }

    #[test]
    fn the_test_harness_clears_this_variable() {
        assert_eq!(demo_harness::LAB_PREFIX_VARIABLE, PREFIX_VARIABLE);
    }

    #[test]
    fn bad_prefixes_are_refused() {
        assert!(prefixed("/ep_x", Some("a/b")).is_err());
        assert!(prefixed("/ep_x", Some("a b")).is_err());
        assert!(prefixed("/ep_x", Some(&"x".repeat(PREFIX_MAX + 1))).is_err());
        assert!(prefixed("/ep_x", None).is_err());
    }
}
