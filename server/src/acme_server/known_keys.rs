//! The keys of the ACME accounts this replica verified requests of, remembered so that an account's next request is
//! checked against its key before the database is asked: its nonce is then used up and the account read in one round
//! trip instead of two. Only a hint: the account as stored decides, and a request signed with a key the account no
//! longer has is refused (another replica may have changed it with keyChange).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use uuid::Uuid;

use super::jwk::PublicJwk;

/// Past this many accounts the memory starts over: an ACME server has a few accounts per machine owner, and a
/// forgotten key costs one round trip.
const CAPACITY: usize = 10_000;

/// An account's key as stored (`jwk`, compared with the stored one on every use) and parsed.
pub struct KnownKey {
    pub jwk: serde_json::Value,
    pub key: PublicJwk,
}

#[derive(Default)]
pub struct KnownKeys(Mutex<HashMap<Uuid, Arc<KnownKey>>>);

impl KnownKeys {
    pub fn get(&self, account: Uuid) -> Option<Arc<KnownKey>> {
        self.lock().get(&account).cloned()
    }

    pub fn remember(&self, account: Uuid, jwk: serde_json::Value, key: PublicJwk) {
        let mut known = self.lock();
        if known.len() >= CAPACITY && !known.contains_key(&account) {
            known.clear();
        }
        known.insert(account, Arc::new(KnownKey { jwk, key }));
    }

    pub fn forget(&self, account: Uuid) {
        self.lock().remove(&account);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, Arc<KnownKey>>> {
        // A panic elsewhere while holding the lock leaves a map that is still consistent: keep using it.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
