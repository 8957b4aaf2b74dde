//! Property tests: arbitrary names, sizes, offsets and timeouts give a value or an
//! error, never a panic. Bounded (proptest's default 256 cases each), so they run
//! in CI on every push; `PROPTEST_CASES=100000 cargo test --test properties` for
//! a longer run.

mod common;

use std::time::Duration;

use common::Scratch;
use ipc_core::ObjectKind;
use ipc_core::{
    Creation, Deadline, Name, NameError, SharedMemory, ShmOptions, NAME_MAX, SEM_NAME_MAX,
};
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_bytes_make_a_name_or_a_reason(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        match Name::from_bytes(&bytes) {
            Ok(name) => {
                prop_assert_eq!(name.as_bytes(), &bytes[..]);
                prop_assert_eq!(bytes[0], b'/');
                prop_assert!(!bytes[1..].contains(&b'/') && !bytes.contains(&0));
                prop_assert!((1..=NAME_MAX).contains(&(bytes.len() - 1)));
                let for_semaphore = name.check_semaphore();
                prop_assert_eq!(for_semaphore.is_ok(), bytes.len() - 1 <= SEM_NAME_MAX);
            }
            Err(NameError::TooLong { len, max }) => prop_assert!(len > max),
            Err(_) => {}
        }
    }

    #[test]
    fn reads_and_writes_anywhere_are_checked(offset in any::<usize>(), len in 0usize..200) {
        thread_local! {
            static MAP: ipc_core::Mapping = ipc_core::Mapping::anonymous(128).unwrap();
        }
        MAP.with(|map| {
            let data = vec![7u8; len];
            let fits = offset.checked_add(len).is_some_and(|end| end <= 128);
            prop_assert_eq!(map.write(offset, &data).is_ok(), fits);
            let mut back = vec![0u8; len];
            prop_assert_eq!(map.read(offset, &mut back).is_ok(), fits);
            Ok(())
        })?;
    }

    #[test]
    fn any_timeout_makes_a_deadline_or_an_error(secs in any::<u64>(), nanos in 0u32..1_000_000_000) {
        let _ = Deadline::after(Duration::new(secs, nanos));
    }

    #[test]
    fn any_size_sets_a_length_or_fails_cleanly(size in prop_oneof![0u64..1 << 20, any::<u64>()]) {
        let m = Scratch::new(ObjectKind::SharedMemory, "size");
        let options = ShmOptions::new().creation(Creation::CreateExclusive);
        let shm = SharedMemory::open(&m.name, &options).unwrap();
        match shm.set_len(size) {
            Ok(()) => prop_assert_eq!(shm.size().unwrap(), size),
            Err(e) => prop_assert!(size > i64::MAX as u64 || !e.to_string().is_empty()),
        }
    }
}
