//! What the sandbox remembers: apps, issued codes, users, faults and the request log.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use neux_proto::{AppSecret, ClientId, Scope, ScopeName};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::faults::{FaultRule, FaultSpec, FaultTable, FaultTiming};
use crate::limits::{DETAIL_CAPACITY, MAX_PROFILE_FIELD_BYTES, PROFILE_OVERHEAD_BYTES};
use crate::log::{Answer, Detail, LoggedRequest, ShownParams};
use neux_proto::Clock;

/// Settings fixed when the sandbox starts.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub window: Duration,
    pub code_ttl: Duration,
    pub token_ttl: Duration,
    pub log_capacity: usize,
    pub profile_capacity: usize,
    pub code_capacity: usize,
    /// The most bytes the profile table holds (fields plus a fixed overhead per profile).
    pub profile_bytes: usize,
    /// Whether the sandbox may listen beyond loopback and answer the names in `access`.
    pub allow_remote: bool,
    /// The names served beyond loopback, and the control token.
    pub access: crate::remote::Access,
    /// Parameter names masked beyond neux-proto's table, at any depth.
    pub mask_keys: Vec<String>,
}

/// A user's profile as the control API sets it. Every field is optional; `id` keys the user
/// (same `id` = same user: same `unionId` everywhere, same `openId` per app).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserSpec {
    /// The user's stable key in the sandbox (default `demo-user`).
    #[serde(default)]
    pub id: Option<String>,
    /// Display name (default `Sandbox User`). Any Unicode.
    #[serde(default)]
    pub nick_name: Option<String>,
    /// Avatar URL.
    #[serde(default)]
    pub avatar: Option<String>,
    /// E-mail (default null, as the platform often answers).
    #[serde(default)]
    pub email: Option<String>,
    /// Country code, returned only with the `user.phone` scope (default `+971`).
    #[serde(default)]
    pub country: Option<String>,
    /// Phone number, returned only with the `user.phone` scope (default `500000000`).
    #[serde(default)]
    pub phone: Option<String>,
    /// `false` makes the exchange answer the platform's 2002 (the user has not opened the
    /// interface to this mini app). Default `true`.
    #[serde(default)]
    pub authorized: Option<bool>,
}

impl UserSpec {
    /// The first field longer than [`MAX_PROFILE_FIELD_BYTES`], by its wire name, and its
    /// length.
    pub(crate) fn oversized_field(&self) -> Option<(&'static str, usize)> {
        self.fields().into_iter().find_map(|(name, v)| {
            v.filter(|v| v.len() > MAX_PROFILE_FIELD_BYTES)
                .map(|v| (name, v.len()))
        })
    }

    /// What the profile weighs in the table's byte budget.
    pub(crate) fn weight(&self) -> usize {
        self.fields()
            .into_iter()
            .map(|(_, v)| v.map_or(0, str::len))
            .sum::<usize>()
            + PROFILE_OVERHEAD_BYTES
    }

    fn fields(&self) -> [(&'static str, Option<&str>); 6] {
        [
            ("id", self.id.as_deref()),
            ("nickName", self.nick_name.as_deref()),
            ("avatar", self.avatar.as_deref()),
            ("email", self.email.as_deref()),
            ("country", self.country.as_deref()),
            ("phone", self.phone.as_deref()),
        ]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub client_id: String,
    pub scope: Scope,
    pub open_id: String,
    pub expires_at_ms: u64,
    pub used: bool,
    pub authorized: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Profile {
    pub union_id: String,
    pub user: UserSpec,
}

#[derive(Default)]
pub(crate) struct Tables {
    pub codes: HashMap<String, Grant>,
    /// Codes in the order they were minted, oldest first: the only way codes leave `codes`, so
    /// the two always agree.
    code_order: VecDeque<String>,
    /// (client id, openId) -> profile.
    pub profiles: HashMap<(String, String), Profile>,
    /// Profiles in the order they were last set, oldest first: the cap evicts from the front.
    profile_order: VecDeque<(String, String)>,
    /// What the profiles in the table weigh, by [`UserSpec::weight`].
    profile_weight: usize,
    pub faults: FaultTable,
    pub log: VecDeque<LoggedRequest>,
    /// The latest requests' details, oldest first, at most [`DETAIL_CAPACITY`].
    pub details: VecDeque<Detail>,
    /// Codes minted since the start.
    pub counter: u64,
    /// The last request's sequence number (it goes on after the log is cleared).
    pub log_seq: u64,
}

// The tables hold live codes: never print them.
impl std::fmt::Debug for Tables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tables")
            .field("codes", &self.codes.len())
            .field("profiles", &self.profiles.len())
            .field("faults", &self.faults.len())
            .field("log", &self.log.len())
            .finish()
    }
}

pub(crate) struct Shared {
    pub apps: HashMap<String, AppSecret>,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
    pub jwt_key: [u8; 64],
    /// How many fault rules are armed, so the common case (none) skips the lock.
    pub armed_faults: std::sync::atomic::AtomicUsize,
    seed: [u8; 32],
    tables: Mutex<Tables>,
}

/// The emulated platform, shared by every handler (axum's `State` carries it).
pub(crate) type Emulator = Arc<Shared>;

// The JWT key, the code seed and the apps' secrets stay out of `Debug`.
impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("apps", &self.app_ids())
            .field("clock", &self.clock)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Arms `rule`, unless too many rules are armed already.
    pub(crate) fn arm_fault(&self, rule: FaultRule) -> Result<(), String> {
        let mut t = self.tables();
        t.faults.arm(rule)?;
        self.armed_faults.store(t.faults.len(), Ordering::Release);
        Ok(())
    }

    /// The fault that strikes the next request on `path`, if any (spent by this call).
    pub(crate) fn take_fault(&self, path: &str) -> Option<(FaultSpec, FaultTiming)> {
        if self.armed_faults.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut t = self.tables();
        let struck = t.faults.take(path);
        self.armed_faults.store(t.faults.len(), Ordering::Release);
        struck
    }

    /// Disarms every fault.
    pub(crate) fn clear_faults(&self) {
        let mut t = self.tables();
        t.faults.clear();
        self.armed_faults.store(0, Ordering::Release);
    }

    /// Appends a request to the log as it arrives, with the parameters it carried; returns its
    /// sequence number.
    pub(crate) fn log_arrival(&self, mut entry: LoggedRequest, params: Option<ShownParams>) -> u64 {
        let mut t = self.tables();
        t.log_seq += 1;
        let seq = t.log_seq;
        entry.seq = seq;
        if t.log.len() >= self.settings.log_capacity {
            t.log.pop_front();
        }
        t.log.push_back(entry);
        if t.details.len() >= DETAIL_CAPACITY.min(self.settings.log_capacity) {
            t.details.pop_front();
        }
        t.details.push_back(Detail {
            seq,
            params,
            ..Detail::default()
        });
        seq
    }

    /// Completes a log entry and its detail with the answer sent (if they are still kept).
    pub(crate) fn log_answer(&self, seq: u64, answer: Answer) {
        let mut t = self.tables();
        if let Ok(i) = t.log.binary_search_by_key(&seq, |e| e.seq) {
            let entry = &mut t.log[i];
            entry.http_status = Some(answer.http_status);
            entry.api_status = answer.api_status;
            if entry.client_id.is_none() {
                entry.client_id = answer.client_id;
            }
        }
        if let Ok(i) = t.details.binary_search_by_key(&seq, |d| d.seq) {
            let detail = &mut t.details[i];
            detail.message = answer.message;
            detail.signature = answer.signature;
        }
    }

    /// Empties the request log and the details; returns how many entries it held. Sequence
    /// numbers go on from where they were.
    pub(crate) fn clear_log(&self) -> usize {
        let mut t = self.tables();
        let n = t.log.len();
        t.log.clear();
        t.details.clear();
        n
    }

    /// The apps' client ids, sorted (never their secrets).
    pub(crate) fn app_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.apps.keys().map(String::as_str).collect();
        ids.sort_unstable();
        ids
    }

    /// Codes that can still be exchanged: not spent, not expired.
    pub(crate) fn live_codes(&self) -> usize {
        let now = self.now_ms();
        self.tables()
            .codes
            .values()
            .filter(|g| !g.used && now < g.expires_at_ms)
            .count()
    }

    pub(crate) fn new(
        apps: Vec<(ClientId, AppSecret)>,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Result<Self, getrandom::Error> {
        // Key material from the OS generator: the token key and the seed codes are drawn from.
        let mut seed = [0u8; 32];
        let mut jwt_key = [0u8; 64];
        getrandom::fill(&mut seed)?;
        getrandom::fill(&mut jwt_key)?;
        Ok(Self {
            apps: apps
                .into_iter()
                .map(|(id, s)| (id.as_str().to_owned(), s))
                .collect(),
            clock,
            settings,
            jwt_key,
            armed_faults: std::sync::atomic::AtomicUsize::new(0),
            seed,
            tables: Mutex::new(Tables::default()),
        })
    }

    pub(crate) fn tables(&self) -> MutexGuard<'_, Tables> {
        // No code path panics while holding the lock; recover rather than cascade if one did.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.clock.timestamp().as_millis()
    }

    /// Issues a one-time code for `client_id`, remembering the user and the granted scope.
    pub(crate) fn mint_code(
        &self,
        client_id: &str,
        scope: Scope,
        user: UserSpec,
    ) -> (String, String) {
        let user_key = user.id.clone().unwrap_or_else(|| "demo-user".to_owned());
        let open_id = derived_open_id(client_id, &user_key);
        let union_id = derived_id("unionId", &[&user_key]);
        let now = self.now_ms();
        let mut t = self.tables();
        t.counter += 1;
        // Bounded by time and by count. A code is kept one lifetime past its expiry, so a late
        // reuse still gets "used" or "expired" rather than "unknown"; beyond that, or when the
        // table is full, the oldest codes go first (all codes live equally long, so minting
        // order is expiry order).
        let ttl = u64::try_from(self.settings.code_ttl.as_millis()).unwrap_or(u64::MAX);
        while let Some(oldest) = t.code_order.front() {
            let stale = t
                .codes
                .get(oldest)
                .is_none_or(|g| now >= g.expires_at_ms.saturating_add(ttl));
            if !stale && t.codes.len() < self.settings.code_capacity {
                break;
            }
            if let Some(old) = t.code_order.pop_front() {
                t.codes.remove(&old);
            }
        }
        let expires_at_ms = now.saturating_add(ttl);
        let code = self.random_code(t.counter);
        t.code_order.push_back(code.clone());
        t.codes.insert(
            code.clone(),
            Grant {
                client_id: client_id.to_owned(),
                scope,
                open_id: open_id.clone(),
                expires_at_ms,
                used: false,
                authorized: user.authorized.unwrap_or(true),
            },
        );
        let key = (client_id.to_owned(), open_id.clone());
        t.profile_weight += user.weight();
        if let Some(replaced) = t.profiles.insert(key.clone(), Profile { union_id, user }) {
            t.profile_weight = t.profile_weight.saturating_sub(replaced.user.weight());
            t.profile_order.retain(|k| *k != key);
        }
        t.profile_order.push_back(key);
        // Bounded by count and by bytes: the oldest profiles go first, as under the count cap
        // alone before.
        while t.profile_order.len() > self.settings.profile_capacity
            || t.profile_weight > self.settings.profile_bytes
        {
            let Some(old) = t.profile_order.pop_front() else {
                break;
            };
            if let Some(gone) = t.profiles.remove(&old) {
                t.profile_weight = t.profile_weight.saturating_sub(gone.user.weight());
            }
        }
        (code, open_id)
    }

    /// A code shaped like the platform's (a UUID), unguessable from outside.
    fn random_code(&self, counter: u64) -> String {
        let d = Sha256::digest([&self.seed[..], &counter.to_be_bytes()].concat());
        let h = hex::encode(&d[..16]);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

/// The openId of `user_key` in `client_id`.
pub(crate) fn derived_open_id(client_id: &str, user_key: &str) -> String {
    derived_id("openId", &[client_id, user_key])
}

/// Ids derived from their inputs only, so the same user gets the same ids in every sandbox run.
fn derived_id(kind: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    for p in parts {
        h.update([0u8]);
        h.update(p.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// The profile as the user-info call returns it for a token with `scope`.
pub(crate) fn user_info_json(open_id: &str, profile: &Profile, scope: &Scope) -> serde_json::Value {
    let u = &profile.user;
    let mut v = serde_json::json!({
        "openId": open_id,
        "nickName": u.nick_name.clone().unwrap_or_else(|| "Sandbox User".to_owned()),
        "avatar": u.avatar.clone().unwrap_or_else(|| format!("https://sandbox.invalid/avatar/{open_id}.png")),
        "email": u.email,
        "unionId": profile.union_id,
    });
    if scope.contains(&ScopeName::UserPhone) {
        v["country"] = u
            .country
            .clone()
            .unwrap_or_else(|| "+971".to_owned())
            .into();
        v["phone"] = u
            .phone
            .clone()
            .unwrap_or_else(|| "500000000".to_owned())
            .into();
    }
    v
}
