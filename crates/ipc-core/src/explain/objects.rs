//! Which object a traced call acts on, learned from the narration itself.
//!
//! An open names its object; later calls name only a handle (a queue
//! descriptor, a file descriptor, a semaphore's or a mapping's address). This
//! table remembers, per process, which handle stands for which object, from
//! each open's narrated result until the handle is closed, so every line of
//! the trace can name its object apart from its arguments. A forked child
//! starts with a copy of its parent's table, as it starts with copies of the
//! parent's handles.
//!
//! It reads the arguments as the wrappers narrate them: a name is the quoted
//! first argument (between the first and the last `"`, whatever the name holds),
//! a named semaphore's handle is `0x.. /* NAME */`, the other handles are the
//! first argument (`mmap`'s descriptor is its fifth).

use std::cell::RefCell;
use std::sync::Mutex;

use super::Returned;

/// An object a call acts on: its name and kind, as the trace shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Object {
    /// `/NAME`; for an object in a mapping `/NAME+OFFSET`; a process's pid.
    pub(super) name: String,
    /// `mq`, `sem`, `shm`, `mutex`, `condvar`, `unnamed sem`, `process`.
    pub(super) kind: &'static str,
}

impl Object {
    fn new(name: impl Into<String>, kind: &'static str) -> Object {
        Object {
            name: name.into(),
            kind,
        }
    }
}

/// A handle and the object it stands for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Handle {
    Queue(i64),
    File(i64),
    Semaphore(usize),
}

struct Table {
    handles: Vec<(Handle, Object)>,
    /// Mappings: start, length, and the shared memory object mapped.
    mappings: Vec<(usize, usize, Object)>,
}

static TABLE: Mutex<Table> = Mutex::new(Table {
    handles: Vec::new(),
    mappings: Vec::new(),
});

thread_local! {
    /// The object of the call this thread started and has not seen return.
    static OPEN: RefCell<Option<(String, Option<Object>)>> = const { RefCell::new(None) };
}

/// The object `call(args)` acts on, recording what an open or a map made and
/// forgetting what a close or an unmap ended. `result` is `None` for a call
/// not yet made.
pub(super) fn note(call: &str, args: &str, result: Option<&dyn Returned>) -> Option<Object> {
    let value = result
        .filter(|r| r.errno().is_none())
        .map(|r| r.to_string());
    let mut table = TABLE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let first = args.split(", ").next().unwrap_or("");
    match call {
        "mq_open" | "sem_open" | "shm_open" => {
            let kind = kind_of(call);
            let object = Object::new(quoted(args)?, kind);
            let handle = value.as_deref().and_then(|v| match kind {
                "mq" => v.parse().ok().map(Handle::Queue),
                "shm" => v.parse().ok().map(Handle::File),
                _ => address(v).map(Handle::Semaphore),
            });
            if let Some(handle) = handle {
                table.handles.retain(|(h, _)| *h != handle);
                table.handles.push((handle, object.clone()));
            }
            Some(object)
        }
        "mq_unlink" | "sem_unlink" | "shm_unlink" => {
            Some(Object::new(quoted(args)?, kind_of(call)))
        }
        "mq_send" | "mq_timedsend" | "mq_receive" | "mq_timedreceive" | "mq_getattr"
        | "mq_setattr" | "mq_notify" | "mq_close" => {
            table.find(Handle::Queue(first.parse().ok()?), call == "mq_close")
        }
        "ftruncate" | "posix_fallocate" | "pread" | "pwrite" | "fstat" | "close" => {
            table.find(Handle::File(first.parse().ok()?), call == "close")
        }
        "mmap" => {
            let fd: i64 = args.split(", ").nth(4)?.parse().ok()?;
            let len: usize = args.split(", ").nth(1)?.parse().ok()?;
            let start = value.as_deref().and_then(address);
            let object = match fd {
                -1 => Object::new(format!("anonymous {}", value.as_deref()?), "shm"),
                _ => table.find(Handle::File(fd), false)?,
            };
            if let Some(start) = start {
                table.mappings.push((start, len, object.clone()));
            }
            Some(object)
        }
        "munmap" => {
            let start = address(first)?;
            let at = table.mappings.iter().position(|(s, _, _)| *s == start)?;
            Some(table.mappings.remove(at).2)
        }
        "waitpid" | "kill" => Some(Object::new(first.trim(), "process")),
        "fork" => value.map(|pid| Object::new(pid, "process")),
        _ if call.starts_with("sem_") => {
            if let Some(name) = commented(args) {
                return Some(Object::new(name, "sem"));
            }
            let ptr = address(first)?;
            let named = table.find(Handle::Semaphore(ptr), call == "sem_close");
            named.or_else(|| table.placed(ptr, "unnamed sem"))
        }
        _ if call.starts_with("pthread_mutex_") => table.placed(address(first)?, "mutex"),
        _ if call.starts_with("pthread_cond_") => table.placed(address(first)?, "condvar"),
        _ => None,
    }
}

/// Remembers the object of the call this thread just started.
pub(super) fn started(call: &str, object: Option<Object>) {
    OPEN.with(|open| *open.borrow_mut() = Some((call.to_owned(), object)));
}

/// The object of the call this thread started, now that it returned; for
/// `fork`, the child it made.
pub(super) fn resumed(call: &str, result: &dyn Returned) -> Option<Object> {
    let started = OPEN.with(|open| open.borrow_mut().take());
    match started {
        Some((started, object)) if started == call => {
            object.or_else(|| match (call, result.errno()) {
                ("fork", None) => Some(Object::new(result.to_string(), "process")),
                _ => None,
            })
        }
        _ => None,
    }
}

impl Table {
    /// The object `handle` stands for; forgotten if `closing`.
    fn find(&mut self, handle: Handle, closing: bool) -> Option<Object> {
        let at = self.handles.iter().position(|(h, _)| *h == handle)?;
        if closing {
            Some(self.handles.remove(at).1)
        } else {
            Some(self.handles[at].1.clone())
        }
    }

    /// An object of `kind` placed at `ptr` in a mapping: named after the mapped
    /// object and its offset, `/NAME+64`.
    fn placed(&self, ptr: usize, kind: &'static str) -> Option<Object> {
        let (start, _, mapped) = self
            .mappings
            .iter()
            .find(|(start, len, _)| (*start..start + len).contains(&ptr))?;
        Some(Object::new(
            format!("{}+{}", mapped.name, ptr - start),
            kind,
        ))
    }
}

/// The kind a call's name starts with: `mq`, `sem` or `shm`.
fn kind_of(call: &str) -> &'static str {
    match call.split('_').next() {
        Some("mq") => "mq",
        Some("sem") => "sem",
        _ => "shm",
    }
}

/// The name in `"NAME", ...`: between the first and the last `"`.
fn quoted(args: &str) -> Option<String> {
    let first = args.find('"')?;
    let last = args.rfind('"')?;
    (last > first).then(|| args[first + 1..last].to_owned())
}

/// The name in `0x7f.. /* NAME */`.
fn commented(args: &str) -> Option<String> {
    let start = args.find("/* ")? + 3;
    let end = args.rfind(" */")?;
    (end >= start).then(|| args[start..end].to_owned())
}

/// An address shown as `0x7f1c2b4e9000`.
fn address(text: &str) -> Option<usize> {
    usize::from_str_radix(text.trim().strip_prefix("0x")?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_survive_quotes_and_commas_inside() {
        assert_eq!(
            quoted(r#""/a", b", O_CREAT, 0644"#).as_deref(),
            Some(r#"/a", b"#)
        );
        assert_eq!(
            commented("0x7f00 /* /x */ y */").as_deref(),
            Some("/x */ y")
        );
        assert_eq!(address("0x10"), Some(16));
        assert_eq!(address("16"), None);
    }
}
