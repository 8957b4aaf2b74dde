//! The three kinds of objects behind one interface, for the labs that do the same
//! thing to each: open, create, unlink.

use ipc_core::ObjectKind;
use ipc_core::{
    Access, Creation, MessageQueue, Mode, MqOptions, Name, Result, SemOptions, Semaphore,
    SharedMemory, ShmOptions,
};

/// An open handle of any kind; closed on drop.
#[derive(Debug)]
pub enum Handle {
    /// From `shm_open`.
    Shm(SharedMemory),
    /// From `sem_open`.
    Sem(Semaphore),
    /// From `mq_open`.
    Mq(MessageQueue),
}

/// Opens (or creates, per `creation`) the object `name` of `kind`, read-write, with
/// `mode` for a new one (a semaphore starts at 0; a queue gets the system defaults).
pub fn open(kind: ObjectKind, name: &Name, creation: Creation, mode: Mode) -> Result<Handle> {
    Ok(match kind {
        ObjectKind::SharedMemory => Handle::Shm(SharedMemory::open(
            name,
            &ShmOptions::new()
                .creation(creation)
                .access(Access::ReadWrite)
                .mode(mode.bits()),
        )?),
        ObjectKind::Semaphore => Handle::Sem(Semaphore::open(
            name,
            &SemOptions::new()
                .creation(creation)
                .mode(mode.bits())
                .value(0),
        )?),
        ObjectKind::MessageQueue => Handle::Mq(MessageQueue::open(
            name,
            &MqOptions::new().creation(creation).mode(mode.bits()),
        )?),
    })
}

/// Unlinks `name` of `kind`.
pub fn unlink(kind: ObjectKind, name: &Name) -> Result<()> {
    kind.unlink(name)
}

/// A name unique to this process: `/PREFIX_PID_TAG`.
pub fn unique_name(prefix: &str, tag: &str) -> Name {
    Name::new(&format!("/{prefix}_{}_{tag}", std::process::id())).expect("a valid name")
}
