//! Virtual time with real concurrency, for tests: a clock, an async
//! sleeper whose sleeps wait until the clock reaches them, and `run`, which
//! polls a future and, whenever it waits, moves the clock to the earliest
//! pending sleep. Nothing here reads real time.

#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use resilience_core::{AsyncSleeper, Clock};

#[derive(Default)]
struct Inner {
    now: Duration,
    /// Pending sleeps: id → wake-up time.
    pending: BTreeMap<u64, Duration>,
    next_id: u64,
}

/// One virtual time line; clones share it.
#[derive(Clone, Default)]
pub(crate) struct VirtualTime(Rc<RefCell<Inner>>);

impl VirtualTime {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Polls `f` to completion, jumping the clock to the next sleep
    /// whenever everything waits. Panics if `f` waits on nothing.
    pub(crate) fn run<F: Future>(&self, f: F) -> F::Output {
        let mut f = pin!(f);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            let next = self.0.borrow().pending.values().min().copied();
            match next {
                Some(at) => {
                    let mut inner = self.0.borrow_mut();
                    inner.now = inner.now.max(at);
                }
                None => panic!("deadlock: the future waits on no virtual timer"),
            }
        }
    }

    /// Sleeps still pending (none should leak once a call returned).
    pub(crate) fn pending_sleeps(&self) -> usize {
        self.0.borrow().pending.len()
    }
}

impl Clock for VirtualTime {
    fn now(&self) -> Duration {
        self.0.borrow().now
    }
}

/// A sleep until a virtual instant.
pub(crate) struct Sleep {
    time: VirtualTime,
    id: u64,
    at: Duration,
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        let mut inner = self.time.0.borrow_mut();
        if inner.now >= self.at {
            inner.pending.remove(&self.id);
            Poll::Ready(())
        } else {
            inner.pending.insert(self.id, self.at);
            Poll::Pending
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.time.0.borrow_mut().pending.remove(&self.id);
    }
}

impl AsyncSleeper for VirtualTime {
    type Sleep = Sleep;
    fn sleep(&self, d: Duration) -> Sleep {
        let mut inner = self.0.borrow_mut();
        let id = inner.next_id;
        inner.next_id += 1;
        let at = inner.now.saturating_add(d);
        Sleep {
            time: self.clone(),
            id,
            at,
        }
    }
}
