# Sourced by scripts/inspect and scripts/clean: the demos' object names, and a way
# to reach the message queues whether or not an mqueue filesystem is mounted.

# shellcheck disable=SC2034  # used by the scripts that source this file
DEMO_SHM="ep_exclusive ep_safe_shm"
DEMO_SEMS="ep_sem_empty ep_sem_full ep_shm_lock"
DEMO_QUEUES="ep_mq_lifecycle ep_nonblock_mq"

# with_mqueue CMD...: runs CMD with $MQ set to a directory showing this IPC
# namespace's message queues: /dev/mqueue when mounted; otherwise a private mount
# (a mount namespace of its own, so nothing changes for anyone else) when we may
# mount; otherwise says how to mount one and returns 1.
with_mqueue() {
    if mountpoint -q /dev/mqueue 2>/dev/null; then
        MQ=/dev/mqueue "$@"
        return
    fi
    if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
        # unshare -m: a new mount namespace only; the IPC namespace (the queues) is ours.
        local self
        self=$(declare -f "$@"; declare -p DEMO_SHM DEMO_SEMS DEMO_QUEUES)
        unshare -m bash -c "$self"'
            MQ=$(mktemp -d) && mount -t mqueue none "$MQ" && MQ=$MQ '"$*"'
            status=$?; umount "$MQ"; rmdir "$MQ"; exit $status'
        return
    fi
    echo "message queues: no mqueue filesystem is mounted at /dev/mqueue." >&2
    echo "  mount one:  sudo mkdir -p /dev/mqueue && sudo mount -t mqueue none /dev/mqueue" >&2
    echo "  (or run this script as root: it then mounts one privately)" >&2
    return 1
}
