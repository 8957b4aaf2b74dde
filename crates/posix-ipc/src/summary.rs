//! `posix-ipc ls --summary`: how much of each limit is in use, as `lsipc -g`
//! shows it for System V objects.
//!
//! - message queues in this IPC namespace, of `queues_max`;
//! - bytes of `/dev/shm` in use (shared memory and semaphores of all users), of
//!   its size;
//! - the queue memory charged to this user, of `RLIMIT_MSGQUEUE`. The kernel
//!   charges each queue to its creator when it is made, whether or not it holds
//!   messages: `mq_maxmsg * mq_msgsize` plus its bookkeeping, `mq_maxmsg` times
//!   the size of a `struct msg_msg` and `min(mq_maxmsg, MQ_PRIO_MAX)` times the
//!   size of a `struct posix_msg_tree_node` (ipc/mqueue.c; 48 bytes each on
//!   64-bit Linux, an estimate elsewhere). Counted here: the queues of this IPC
//!   namespace whose file this user owns; the kernel also counts the user's
//!   queues in other IPC namespaces, which cannot be seen from here.

use ipc_core::limits::{self, Amount, Limit};

use crate::cli::ListArgs;
use crate::failure::Failure;
use crate::inventory::collect;
use crate::table::{print, Heading};
use crate::units::bytes_cell;
use ipc_core::ObjectKind;

/// Bytes the kernel charges per message slot besides the message itself:
/// `sizeof(struct msg_msg)` (48 on 64-bit Linux).
const MSG_MSG_SIZE: u64 = 48;
/// `sizeof(struct posix_msg_tree_node)` (48 on 64-bit Linux), one per priority
/// level a queue can hold at once.
const TREE_NODE_SIZE: u64 = 48;

/// One line of the summary.
struct Usage {
    resource: &'static str,
    description: String,
    used: Option<u64>,
    limit: Amount,
    bytes: bool,
}

impl Usage {
    fn percent(&self) -> Option<u64> {
        match (self.used, self.limit) {
            (Some(used), Amount::Number(limit)) if limit > 0 => Some((used * 100).div_ceil(limit)),
            _ => None,
        }
    }
}

/// What the kernel charges to RLIMIT_MSGQUEUE for a queue of `max_messages` of
/// `message_size` bytes.
pub fn queue_charge(max_messages: u64, message_size: u64) -> u64 {
    let prio_max = u64::from(limits::MQ_PRIO_MAX);
    max_messages * MSG_MSG_SIZE
        + max_messages.min(prio_max) * TREE_NODE_SIZE
        + max_messages * message_size
}

fn value(limit: &Limit) -> Amount {
    limit.value
}

/// `posix-ipc ls --summary`.
pub fn summary(args: &ListArgs) -> Result<(), Failure> {
    let inventory = collect(None, b"/", args.scan.options());
    if let Some(why) = &inventory.queues_unavailable {
        eprintln!("posix-ipc: message queues not counted: {why}");
    }
    let count =
        |kind: ObjectKind| inventory.objects.iter().filter(|o| o.kind == kind).count() as u64;
    let uid = nix::unistd::geteuid().as_raw();
    let charged: u64 = inventory
        .objects
        .iter()
        .filter(|o| o.kind == ObjectKind::MessageQueue && o.uid == uid)
        .filter_map(|o| {
            Some(queue_charge(
                u64::try_from(o.max_messages?).ok()?,
                u64::try_from(o.message_size?).ok()?,
            ))
        })
        .sum();
    let size = value(&limits::dev_shm_size());
    let free = value(&limits::dev_shm_free());
    let shm_used = match (size, free) {
        (Amount::Number(size), Amount::Number(free)) => Some(size.saturating_sub(free)),
        _ => None,
    };
    let queues_known = inventory.queues_unavailable.is_none();
    let lines = [
        Usage {
            resource: "MQUEUES",
            description: "message queues in this IPC namespace (queues_max)".into(),
            used: queues_known.then(|| count(ObjectKind::MessageQueue)),
            limit: value(&limits::queues_max()),
            bytes: false,
        },
        Usage {
            resource: "MQBYTES",
            description: format!(
                "queue memory charged to uid {uid}, its queues here (RLIMIT_MSGQUEUE)"
            ),
            used: queues_known.then_some(charged),
            limit: value(&limits::rlimit_msgqueue()),
            bytes: true,
        },
        Usage {
            resource: "SHMBYTES",
            description: "bytes of /dev/shm in use, all users (its size)".into(),
            used: shm_used,
            limit: size,
            bytes: true,
        },
        Usage {
            resource: "SHMS",
            description: "shared memory objects".into(),
            used: Some(count(ObjectKind::SharedMemory)),
            limit: Amount::Unknown,
            bytes: false,
        },
        Usage {
            resource: "SEMS",
            description: "named semaphores".into(),
            used: Some(count(ObjectKind::Semaphore)),
            limit: Amount::Unknown,
            bytes: false,
        },
    ];
    let headings = ["RESOURCE", "DESCRIPTION", "USED", "LIMIT", "USE%"].map(|name| Heading {
        name,
        right: matches!(name, "USED" | "LIMIT" | "USE%"),
    });
    let exact = args.format.bytes;
    let number = |n: u64, bytes: bool| {
        if bytes {
            bytes_cell(n, exact)
        } else {
            n.to_string()
        }
    };
    print(
        args.format.format(),
        &headings,
        !args.format.noheadings,
        lines.len(),
        |i, cells| {
            let line = &lines[i];
            cells[0].push_str(line.resource);
            cells[1].push_str(&line.description);
            if let Some(used) = line.used {
                cells[2].push_str(&number(used, line.bytes));
            }
            match line.limit {
                Amount::Number(n) => cells[3].push_str(&number(n, line.bytes)),
                Amount::Unlimited => cells[3].push_str("unlimited"),
                _ => {}
            }
            if let Some(p) = line.percent() {
                cells[4].push_str(&format!("{p}%"));
            }
        },
        |i| {
            let line = &lines[i];
            vec![
                ("resource", line.resource.into()),
                ("description", line.description.clone().into()),
                ("used", line.used.into()),
                (
                    "limit",
                    match line.limit {
                        Amount::Number(n) => n.into(),
                        Amount::Unlimited => "unlimited".into(),
                        _ => serde_json::Value::Null,
                    },
                ),
                ("unit", if line.bytes { "bytes" } else { "count" }.into()),
                ("use_percent", line.percent().into()),
            ]
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_charges_capacity_and_bookkeeping() {
        // msg_default 10, msgsize_default 8192: 10 * 8192 + 10 * 48 + 10 * 48.
        assert_eq!(queue_charge(10, 8192), 82_880);
        // More slots than priorities: the tree nodes stop at MQ_PRIO_MAX.
        assert_eq!(queue_charge(40_000, 1), 40_000 + 40_000 * 48 + 32_768 * 48);
    }
}
