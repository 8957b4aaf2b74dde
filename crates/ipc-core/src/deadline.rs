//! Absolute deadlines for the timed calls: [`Deadline`].

use std::time::Duration;

use nix::sys::time::TimeSpec;
use nix::time::{clock_gettime, ClockId};

use crate::error::{Error, Result};

/// Absolute deadlines for the timed calls (`sem_timedwait`, `mq_timedsend`, `mq_timedreceive`).
///
/// A point in time on `CLOCK_REALTIME`, the clock POSIX's timed IPC calls measure.
///
/// The calls take an absolute time, not a timeout, so that a call retried after
/// an interruption still ends when it was meant to. [`Deadline::after`] turns a
/// timeout into one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(libc::timespec);

impl Deadline {
    /// The deadline `timeout` from now (`clock_gettime(CLOCK_REALTIME) + timeout`).
    ///
    /// # Errors
    /// `EOVERFLOW` for a timeout too long to represent; `clock_gettime` failing,
    /// which on Linux it does not for this clock.
    pub fn after(timeout: Duration) -> Result<Deadline> {
        let now = clock_gettime(ClockId::CLOCK_REALTIME)
            .map_err(|errno| Error::os("clock_gettime", None, errno))?;
        Duration::new(now.tv_sec() as u64, now.tv_nsec() as u32)
            .checked_add(timeout)
            .filter(|end| end.as_secs() <= i64::MAX as u64)
            .map(Deadline::at)
            .ok_or_else(|| Error::os("clock_gettime", None, nix::errno::Errno::EOVERFLOW))
    }

    /// A deadline from its two fields as given, even out of range: the kernel then
    /// refuses it with `EINVAL`, which the timed calls report naming the field.
    pub fn from_parts(secs: i64, nanos: i64) -> Deadline {
        // SAFETY: `timespec` is plain integers (and padding on some targets): all
        // zero bytes is a valid value, whose fields are set just below.
        let mut spec: libc::timespec = unsafe { std::mem::zeroed() };
        spec.tv_sec = secs as libc::time_t;
        spec.tv_nsec = nanos as _;
        Deadline(spec)
    }

    /// The nanoseconds field, if it is out of the range the kernel accepts.
    pub(crate) fn bad_nanoseconds(&self) -> Option<i64> {
        let nsec: i64 = self.0.tv_nsec;
        (!(0..1_000_000_000).contains(&nsec)).then_some(nsec)
    }

    /// The deadline at `since_epoch` on `CLOCK_REALTIME`. One past the last second
    /// a `time_t` holds (`Duration::MAX`, say) is that last second: never reached,
    /// never wrapped into the past.
    pub fn at(since_epoch: Duration) -> Deadline {
        let last = Duration::new(libc::time_t::MAX as u64, 999_999_999);
        let spec = TimeSpec::from_duration(since_epoch.min(last));
        Deadline(*spec.as_ref())
    }

    /// The deadline as the C `struct timespec` the calls take.
    pub fn as_timespec(&self) -> &libc::timespec {
        &self.0
    }
}

impl std::fmt::Display for Deadline {
    /// As strace shows a `struct timespec`: `{tv_sec=1795000000, tv_nsec=0}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{{tv_sec={}, tv_nsec={}}}",
            self.0.tv_sec, self.0.tv_nsec
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_too_far_to_hold_is_the_farthest_not_one_in_the_past() {
        let far = Deadline::at(Duration::MAX);
        assert_eq!(far.as_timespec().tv_sec, libc::time_t::MAX, "{far}");
        assert_eq!(far.as_timespec().tv_nsec, 999_999_999, "{far}");
        let just_past = Deadline::at(Duration::from_secs(libc::time_t::MAX as u64 + 1));
        assert_eq!(just_past, far);
        let now = Deadline::at(Duration::new(1_795_000_000, 5));
        assert_eq!(now.as_timespec().tv_sec, 1_795_000_000);
        assert_eq!(now.as_timespec().tv_nsec, 5);
    }
}
