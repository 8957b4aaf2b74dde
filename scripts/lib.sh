# Sourced by the scripts: builds binaries and finds them where cargo put them.
# Cargo is asked (--message-format=json), so CARGO_TARGET_DIR, build.target-dir
# and --target builds all work; nothing assumes ./target/debug.

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

declare -A BIN=()

# build_bins CARGO_ARGS...: builds the binaries of the packages CARGO_ARGS select
# (e.g. -p posix-ipc, or --workspace) and records each one's path in BIN[name].
# Exits 2, saying so, if the build fails.
build_bins() {
    local json path
    if ! json=$(cargo build -q --bins --message-format=json-render-diagnostics "$@"); then
        echo "${0##*/}: cargo build $* failed (see above)" >&2
        exit 2
    fi
    while IFS= read -r path; do
        BIN[${path##*/}]=$path
    done < <(printf '%s\n' "$json" | grep -o '"executable":"[^"]*"' | sed 's/^"executable":"//; s/"$//')
}

# bin NAME: the path of the built binary NAME; exits 2, saying so, if cargo did
# not report it (a package renamed or missing).
bin() {
    local path=${BIN[$1]:-} built="${!BIN[*]}"
    if [ -z "$path" ] || [ ! -x "$path" ]; then
        echo "${0##*/}: no binary '$1' was built (cargo built: ${built:-none})" >&2
        exit 2
    fi
    printf '%s\n' "$path"
}

# lab_names: prints how the demos' object names start, as the demos make them:
# /ep_, or /PREFIXep_ when POSIX_IPC_LAB_PREFIX=PREFIX (README, "Several people on
# one machine"). A prefix the demos would refuse is refused here too (exit 2), so
# it never reaches a path or a pattern.
lab_names() {
    local prefix=${POSIX_IPC_LAB_PREFIX:-}
    if [ ${#prefix} -gt 64 ] || [[ $prefix == *[!a-zA-Z0-9_.-]* ]]; then
        echo "${0##*/}: POSIX_IPC_LAB_PREFIX='$prefix': use at most 64 letters, digits, '_', '-' or '.'" >&2
        exit 2
    fi
    printf '/%sep_\n' "$prefix"
}
