//! A pin request's life: `queued` → `pinning` (Kubo fetches and pins the DAG) → `pinned`, or
//! `failed` with Kubo's reason. Kubo holds one recursive pin per CID, shared by every request
//! for it: a CID is unpinned on Kubo only when no request wants it any more.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::kubo::Kubo;
use super::store::{PinRecord, PinState, Store};

pub struct Pinner {
    pub store: Store,
    pub kubo: Kubo,
    /// How long Kubo may take to fetch a DAG before the pin fails.
    pub timeout: Duration,
    /// Pins fetched at once (the rest stay `queued`).
    slots: Semaphore,
}

impl Pinner {
    pub fn new(store: Store, kubo: Kubo, timeout: Duration) -> Arc<Pinner> {
        Arc::new(Pinner {
            store,
            kubo,
            timeout,
            slots: Semaphore::new(4),
        })
    }

    /// Starts pinning a stored request in the background.
    pub fn start(self: &Arc<Self>, r: PinRecord) {
        let p = self.clone();
        tokio::spawn(async move {
            let Ok(_slot) = p.slots.acquire().await else {
                return;
            };
            let p2 = p.clone();
            let _ = tokio::task::spawn_blocking(move || p2.pin(&r)).await;
        });
    }

    /// Unpins `cid` on Kubo (in the background) unless some request still wants it.
    pub fn release(self: &Arc<Self>, cid: String) {
        let p = self.clone();
        tokio::task::spawn_blocking(move || p.release_now(&cid));
    }

    fn pin(&self, r: &PinRecord) {
        let log = |e: String| eprintln!("[pinning] {}: {e}", r.requestid);
        match self.store.set_state(&r.requestid, PinState::Pinning, None) {
            Ok(true) => {}
            Ok(false) => return, // removed while queued
            Err(e) => return log(e),
        }
        for origin in r.pin.origins.iter().flatten() {
            // Best effort: an offline Kubo refuses, and the data may be local anyway.
            let _ = self.kubo.swarm_connect(origin);
        }
        let (state, details) = match self.kubo.pin_add(&r.pin.cid, self.timeout) {
            Ok(()) => (PinState::Pinned, None),
            Err(e) => (PinState::Failed, Some(e)),
        };
        match self
            .store
            .set_state(&r.requestid, state, details.as_deref())
        {
            Ok(true) => {}
            // Removed or replaced while pinning: the pin just made may be unwanted.
            Ok(false) => self.release_now(&r.pin.cid),
            Err(e) => log(e),
        }
        if let Some(old) = &r.replaces {
            self.release_now(old);
        }
    }

    fn release_now(&self, cid: &str) {
        let unwanted = self.store.cid_wanted(cid).map(|w| !w);
        if let Err(e) = unwanted.and_then(|u| if u { self.kubo.pin_rm(cid) } else { Ok(()) }) {
            eprintln!("[pinning] unpin {cid}: {e}");
        }
    }
}
