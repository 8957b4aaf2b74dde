//! The command line, as clap parses it. Values are checked here, before any
//! system call: a bad name, size or number is a usage error (exit status 2).

use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use ipc_core::ObjectKind;
use ipc_core::{Mode, Name};

/// See, drive and clean up POSIX IPC objects: shared memory, named semaphores and
/// message queues.
#[derive(Debug, Parser)]
#[command(name = "posix-ipc", version, max_term_width = 100)]
#[command(
    after_help = "Exit status: 0 done, 1 the operation failed, 2 bad usage, \
                        130 interrupted (nothing changed)."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List objects: type, name, size/value/depth, mode, owner, last change, holders.
    Ls(ListArgs),
    /// Show one name in full, with each holder's pid and command.
    Stat(StatArgs),
    /// Drive a message queue.
    #[command(subcommand)]
    Mq(MqCommand),
    /// Drive a named semaphore.
    #[command(subcommand)]
    Sem(SemCommand),
    /// Drive a shared memory object.
    #[command(subcommand)]
    Shm(ShmCommand),
    /// Remove objects by name (every type with that name, unless --type says which).
    Rm(RmArgs),
    /// Remove every object whose name starts with a prefix, or every orphan.
    Clean(CleanArgs),
    /// Every limit that decides whether an IPC call succeeds, with where it comes from.
    Limits(JsonArg),
    /// Measure what each mechanism costs between two processes: latency percentiles,
    /// stream throughput, message sizes, core placement.
    Bench(crate::bench::BenchArgs),
    /// A live view of every object, its holders and what changes (full screen on a
    /// terminal; one line per event otherwise).
    Watch(crate::watch::WatchArgs),
    /// Draw a sequence diagram (SVG) from a demo's --trace FILE.
    Diagram(crate::diagram::DiagramArgs),
    /// Write man pages or shell completions (for installing; see make install-docs).
    #[command(subcommand, hide = true)]
    Generate(GenerateCommand),
}

/// `posix-ipc generate ...`.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Man pages, one per command (posix-ipc.1, posix-ipc-ls.1, ...), into DIR.
    Man {
        /// Where to write them (created if missing).
        dir: std::path::PathBuf,
    },
    /// The completion script for SHELL, into DIR.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
        /// Where to write it (created if missing).
        dir: std::path::PathBuf,
    },
}

/// `shm`, `sem` or `mq` for `--type`, as [`ObjectKind`]'s labels.
fn kind_parser() -> impl clap::builder::TypedValueParser<Value = ObjectKind> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(ObjectKind::ALL.map(ObjectKind::label)).map(|label| {
        label
            .parse::<ObjectKind>()
            .expect("one of the possible values")
    })
}

/// `--json`.
#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print JSON for scripts instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// How far to believe the scan of `/proc` for holders.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Take this PID namespace's processes as all there are (inside a container
    /// whose IPC namespace and /dev/shm are its own). Without it, in a nested PID
    /// namespace "no holder seen" proves nothing: only the kernel's lease can call
    /// an object an orphan.
    #[arg(long)]
    pub trust_pid_namespace: bool,
}

impl ScanArgs {
    /// The options for [`ipc_core::holders::Scan::take`].
    pub fn options(&self) -> ipc_core::holders::ScanOptions {
        ipc_core::holders::ScanOptions::trusting_pid_namespace(self.trust_pid_namespace)
    }
}

/// `posix-ipc ls`.
#[derive(Debug, Args)]
#[command(after_help = ls_after_help())]
pub struct ListArgs {
    /// Only objects of this type.
    #[arg(long = "type", short = 't', value_parser = kind_parser())]
    pub kind: Option<ObjectKind>,
    /// Only names starting with this (with or without the leading '/'; escapes as
    /// ls shows them).
    #[arg(long, value_parser = parse_prefix)]
    pub prefix: Option<Prefix>,
    /// The columns to show, separated by commas, such as NAME,SIZE; +COL,...
    /// adds to the default ones (see --list-columns).
    #[arg(long, short = 'o', value_name = "LIST", value_parser = crate::columns::parse_columns)]
    pub output: Option<crate::columns::Columns>,
    /// List the columns -o takes, with what each shows.
    #[arg(long, exclusive = true)]
    pub list_columns: bool,
    /// Usage against the limits instead of objects: queues in use of queues_max,
    /// bytes of /dev/shm in use, this user's queue memory of RLIMIT_MSGQUEUE.
    #[arg(long, short = 'g', conflicts_with = "output")]
    pub summary: bool,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub scan: ScanArgs,
}

fn ls_after_help() -> String {
    format!(
        "Columns (-o):\n{}\nSizes are shown as 512B, 4K, 1.5M (powers of 1024) unless --bytes.",
        crate::columns::list()
    )
}

/// How `ls` prints: a table for people, or a form for scripts.
#[derive(Debug, Args)]
pub struct FormatArgs {
    /// Print JSON for scripts instead of a table.
    #[arg(long, short = 'J', conflicts_with_all = ["raw", "export"])]
    pub json: bool,
    /// No alignment: cells separated by one space (a space in a cell is \x20).
    #[arg(long, short = 'r', conflicts_with = "export")]
    pub raw: bool,
    /// KEY="value" pairs, one line per object, ready for a shell's eval.
    #[arg(long, short = 'e')]
    pub export: bool,
    /// No header line.
    #[arg(long)]
    pub noheadings: bool,
    /// Sizes as exact numbers of bytes, not 4K.
    #[arg(long, short = 'b')]
    pub bytes: bool,
}

impl FormatArgs {
    /// The format chosen.
    pub fn format(&self) -> crate::table::Format {
        use crate::table::Format;
        if self.json {
            Format::Json
        } else if self.raw {
            Format::Raw
        } else if self.export {
            Format::Export
        } else {
            Format::Table
        }
    }
}

/// `posix-ipc stat NAME`.
#[derive(Debug, Args)]
pub struct StatArgs {
    /// The object's name, such as /jobs, as ls shows it (\xNN for a byte, \\ for
    /// a backslash).
    #[arg(value_parser = parse_shown_name)]
    pub name: Name,
    /// Only this type, where several share the name.
    #[arg(long = "type", short = 't', value_parser = kind_parser())]
    pub kind: Option<ObjectKind>,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// Creation options shared by `mq create`, `sem create` and `shm create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The object's name, such as /jobs, as ls shows it (\xNN for a byte, \\ for a
    /// backslash).
    #[arg(value_parser = parse_shown_name)]
    pub name: Name,
    /// Fail with EEXIST if it exists (O_EXCL) instead of opening it.
    #[arg(long, short = 'x')]
    pub exclusive: bool,
    /// Permission bits, in octal, masked by the umask.
    #[arg(long, short = 'm', default_value = "0600", value_parser = parse_mode)]
    pub mode: Mode,
}

/// `posix-ipc mq ...`.
#[derive(Debug, Subcommand)]
pub enum MqCommand {
    /// Create a queue (mq_open with O_CREAT).
    Create {
        #[command(flatten)]
        create: CreateArgs,
        /// Most messages it holds (mq_maxmsg); default: /proc/sys/fs/mqueue/msg_default.
        #[arg(long, value_parser = parse_positive)]
        max_messages: Option<u64>,
        /// Largest message in bytes (mq_msgsize); default: msgsize_default.
        #[arg(long, value_parser = parse_positive)]
        message_size: Option<u64>,
    },
    /// Send one message (mq_send / mq_timedsend).
    Send {
        /// The queue's name, as ls shows it (\xNN for a byte, \\ for a
        /// backslash).
        #[arg(value_parser = parse_shown_name)]
        name: Name,
        /// The message text (sent as its bytes, with no NUL added).
        message: String,
        /// Priority, 0 (lowest) to 32767.
        #[arg(long, short = 'p', default_value_t = 0, value_parser = parse_priority)]
        priority: u32,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Receive the oldest message of the highest priority (mq_receive / mq_timedreceive).
    ///
    /// Prints it as "priority P: MESSAGE". Before receiving, stdout is checked (not
    /// closed, not a pipe nobody reads, not full); if printing still fails, the
    /// message is sent back with its priority (behind others of that priority), and
    /// the status is 1.
    Receive {
        /// The queue's name, as ls shows it (\xNN for a byte, \\ for a
        /// backslash).
        #[arg(value_parser = parse_shown_name)]
        name: Name,
        #[command(flatten)]
        wait: WaitArgs,
        /// Print JSON: priority, length, the message as text (null unless it is
        /// UTF-8) and as hex (always, every byte).
        #[arg(long, conflicts_with = "raw")]
        json: bool,
        /// Print only the message's bytes, exactly, with no newline.
        #[arg(long)]
        raw: bool,
    },
    /// Show the queue's attributes (mq_getattr).
    Attr {
        /// The queue's name, as ls shows it (\xNN for a byte, \\ for a
        /// backslash).
        #[arg(value_parser = parse_shown_name)]
        name: Name,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Remove the queue's name (mq_unlink).
    Unlink {
        /// The queue's name, as ls shows it (\xNN for a byte, \\ for a
        /// backslash).
        #[arg(value_parser = parse_shown_name)]
        name: Name,
    },
}

/// How a call that may block waits.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Do not wait: fail with EAGAIN at once (O_NONBLOCK).
    #[arg(long, short = 'n', conflicts_with = "timeout")]
    pub nonblock: bool,
    /// Wait at most this many seconds (an absolute deadline underneath), then fail
    /// ("timed out after N s", status 1).
    #[arg(long, short = 'T', value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
}

/// `posix-ipc sem ...`.
#[derive(Debug, Subcommand)]
pub enum SemCommand {
    /// Create a semaphore (sem_open with O_CREAT).
    Create {
        #[command(flatten)]
        create: CreateArgs,
        /// Initial value, 0 to SEM_VALUE_MAX.
        #[arg(long, short = 'v', default_value_t = 0, value_parser = parse_sem_value)]
        value: u32,
    },
    /// Decrement, waiting while the value is 0 (sem_wait / sem_timedwait).
    Wait {
        /// The semaphore's name, as ls shows it (\xNN for a byte, \\ for a
        /// backslash).
        #[arg(value_parser = parse_shown_name)]
        name: Name,
        /// Wait at most this many seconds, then fail ("timed out after N s").
        #[arg(long, short = 'T', value_parser = parse_seconds)]
        timeout: Option<Duration>,
    },
    /// Decrement if above 0, else fail with EAGAIN (sem_trywait).
    Trywait {
        /// The semaphore's name, as ls shows it (\xNN for a byte, \\ for a
        /// backslash).
        #[arg(value_parser = parse_shown_name)]
        name: Name,
    },
    /// Increment, waking one waiter (sem_post).
    Post {
        /// The semaphore's name, as ls shows it (\xNN for a byte, \\ for a
        /// backslash).
        #[arg(value_parser = parse_shown_name)]
        name: Name,
    },
    /// Print the current value (sem_getvalue).
    Value {
        /// The semaphore's name, as ls shows it (\xNN for a byte, \\ for a
        /// backslash).
        #[arg(value_parser = parse_shown_name)]
        name: Name,
    },
    /// Remove the semaphore's name (sem_unlink).
    Unlink {
        /// The semaphore's name, as ls shows it (\xNN for a byte, \\ for a
        /// backslash).
        #[arg(value_parser = parse_shown_name)]
        name: Name,
    },
}

/// `posix-ipc shm ...`.
#[derive(Debug, Subcommand)]
pub enum ShmCommand {
    /// Create an object and set its size (shm_open with O_CREAT, posix_fallocate).
    ///
    /// shm_open with O_CREAT|O_EXCL, then posix_fallocate (or ftruncate with
    /// --no-reserve). An existing object of that size is opened and left as it is;
    /// one of another size is refused, unless --resize.
    Create {
        #[command(flatten)]
        create: CreateArgs,
        /// Size in bytes, at least 1, or with a unit: 64K, 1M, 4KiB (powers of 1024),
        /// 1MB (powers of 1000).
        #[arg(long, short = 's', value_parser = parse_object_size)]
        size: u64,
        /// If the object exists with another size, give it this size: growing adds
        /// zero bytes, shrinking drops the bytes past the new end (and a process
        /// that has them mapped gets SIGBUS when it touches them).
        #[arg(long, conflicts_with = "exclusive")]
        resize: bool,
        /// Size it with ftruncate only: memory is taken as pages are first touched,
        /// and a full /dev/shm then shows up as SIGBUS in the program that touches
        /// it. By default the memory is reserved now (posix_fallocate), so a full
        /// /dev/shm is an ENOSPC error here.
        #[arg(long)]
        no_reserve: bool,
    },
    /// Write bytes at an offset (shm_open, pwrite): never past the object's end.
    Write {
        /// The object's name, as ls shows it (\xNN for a byte, \\ for a
        /// backslash).
        #[arg(value_parser = parse_shown_name)]
        name: Name,
        /// The text to write, or '-' to read the bytes from stdin.
        data: String,
        /// Where to start, in bytes (units as for shm create --size).
        #[arg(long, short = 'o', default_value_t = 0, value_parser = parse_size)]
        offset: u64,
    },
    /// Print bytes from an offset (shm_open, pread, in chunks of 64 KiB).
    Read {
        /// The object's name, as ls shows it (\xNN for a byte, \\ for a
        /// backslash).
        #[arg(value_parser = parse_shown_name)]
        name: Name,
        /// Where to start, in bytes (units as for shm create --size).
        #[arg(long, short = 'o', default_value_t = 0, value_parser = parse_size)]
        offset: u64,
        /// How many bytes (units as for --size); default: up to the end of the
        /// object.
        #[arg(long, short = 'l', value_parser = parse_size)]
        length: Option<u64>,
        /// On a terminal too, print the bytes as they are. By default a terminal gets
        /// non-printable bytes escaped (\xNN, as ls shows names) and a final newline;
        /// a pipe or file always gets the bytes as they are.
        #[arg(long)]
        raw: bool,
    },
    /// Remove the object's name (shm_unlink).
    Unlink {
        /// The object's name, as ls shows it (\xNN for a byte, \\ for a
        /// backslash).
        #[arg(value_parser = parse_shown_name)]
        name: Name,
    },
}

/// `posix-ipc rm`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Names to remove, as ls shows them (\xNN for a byte, \\ for a backslash).
    #[arg(required = true, value_parser = parse_shown_name)]
    pub names: Vec<Name>,
    /// Only objects of this type.
    #[arg(long = "type", short = 't', value_parser = kind_parser())]
    pub kind: Option<ObjectKind>,
}

/// `posix-ipc clean`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).multiple(true).args(["prefix", "orphans"]))]
pub struct CleanArgs {
    /// Remove objects whose names start with this (escapes as ls shows them). An
    /// empty prefix or a bare '/' matches every object: refused without --all.
    #[arg(long, value_parser = parse_prefix)]
    pub prefix: Option<Prefix>,
    /// Let an empty or bare '/' prefix match every object.
    #[arg(long, requires = "prefix")]
    pub all: bool,
    /// Remove only objects no process holds open or mapped (checked again with
    /// the kernel right before each removal).
    #[arg(long)]
    pub orphans: bool,
    /// Only objects of this type.
    #[arg(long = "type", short = 't', value_parser = kind_parser())]
    pub kind: Option<ObjectKind>,
    /// List what would be removed, remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// A name as `ls` shows it: escapes (`\xNN`, `\u{X}`, `\\`) stand for their bytes.
fn parse_shown_name(text: &str) -> Result<Name, String> {
    let bytes = crate::render::unescape(text)?;
    Name::from_bytes(&bytes).map_err(|e| match e {
        ipc_core::NameError::NoLeadingSlash if !bytes.contains(&b'/') => {
            format!("{e} (did you mean /{text}?)")
        }
        _ => e.to_string(),
    })
}

/// A name prefix, as bytes with its leading '/'.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prefix(pub Vec<u8>);

/// A prefix as `ls` shows names, with its leading '/' added if missing.
pub(crate) fn parse_prefix(text: &str) -> Result<Prefix, String> {
    let bytes = crate::render::unescape(text)?;
    Ok(Prefix(match bytes.first() {
        Some(b'/') => bytes,
        _ => [b"/", &bytes[..]].concat(),
    }))
}

fn parse_mode(text: &str) -> Result<Mode, String> {
    let bits = u32::from_str_radix(text, 8)
        .map_err(|_| format!("'{text}' is not an octal mode such as 0600"))?;
    if bits > 0o777 {
        return Err(format!("mode {text} has bits beyond 0777"));
    }
    Ok(Mode::from_bits_truncate(bits))
}

fn parse_positive(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) if n > i64::MAX as u64 => Err("too large".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{text}' is not a positive whole number")),
    }
}

fn parse_size(text: &str) -> Result<u64, String> {
    crate::units::parse_size(text)
}

fn parse_object_size(text: &str) -> Result<u64, String> {
    match parse_size(text)? {
        0 => Err("an object of 0 bytes cannot be mapped: give a size of at least 1".into()),
        n => Ok(n),
    }
}

fn parse_priority(text: &str) -> Result<u32, String> {
    let max = ipc_core::limits::MQ_PRIO_MAX - 1;
    match text.parse::<u32>() {
        Ok(p) if p <= max => Ok(p),
        _ => Err(format!(
            "a priority is a whole number from 0 to {max} (MQ_PRIO_MAX - 1)"
        )),
    }
}

fn parse_sem_value(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(v) if v <= ipc_core::SEM_VALUE_MAX => Ok(v),
        _ => Err(format!(
            "a semaphore value is a whole number from 0 to {} (SEM_VALUE_MAX)",
            ipc_core::SEM_VALUE_MAX
        )),
    }
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && (0.0..=1e9).contains(&secs) => {
            Ok(Duration::from_secs_f64(secs))
        }
        _ => Err(format!(
            "'{text}' is not a number of seconds, such as 2 or 0.5"
        )),
    }
}
