//! Who holds an object: the one `/proc` scan and kernel lease check that
//! `posix-ipc` and the demos share, [`ipc_core::holders`], plus its JSON form.

use serde::ser::{SerializeSeq, SerializeStruct};
use serde::Serializer;

pub use ipc_core::holders::{
    ask_kernel, remove_unheld, BlindSpot, FileId, Holder, KernelAnswer, Removal, Scan, ScanOptions,
    ScanStats, Scanner,
};

/// Serialises holders as `[{"pid", "uid", "user", "command", "fds", "mapped"}]`.
pub fn serialize_holders<S: Serializer>(holders: &[Holder], s: S) -> Result<S::Ok, S::Error> {
    struct One<'a>(&'a Holder);
    impl serde::Serialize for One<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut h = s.serialize_struct("Holder", 6)?;
            h.serialize_field("pid", &self.0.pid)?;
            h.serialize_field("uid", &self.0.uid)?;
            h.serialize_field("user", &self.0.user)?;
            h.serialize_field("command", &self.0.command)?;
            h.serialize_field("fds", &self.0.fds)?;
            h.serialize_field("mapped", &self.0.mapped)?;
            h.end()
        }
    }
    let mut seq = s.serialize_seq(Some(holders.len()))?;
    for holder in holders {
        seq.serialize_element(&One(holder))?;
    }
    seq.end()
}
