//! Pin requests in SQLite, so a restart loses nothing. Requests belong to an owner: the sha256
//! of the access token that made them (the token itself is never stored).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension, Row};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinState {
    Queued,
    Pinning,
    Pinned,
    Failed,
}

impl PinState {
    pub const ALL: [PinState; 4] = [
        PinState::Queued,
        PinState::Pinning,
        PinState::Pinned,
        PinState::Failed,
    ];

    pub fn word(self) -> &'static str {
        match self {
            PinState::Queued => "queued",
            PinState::Pinning => "pinning",
            PinState::Pinned => "pinned",
            PinState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<PinState> {
        PinState::ALL.into_iter().find(|p| p.word() == s)
    }
}

/// What a client asked to pin (the spec's `Pin` object), echoed back as it was sent.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pin {
    pub cid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug)]
pub struct PinRecord {
    pub requestid: String,
    pub owner: String,
    pub pin: Pin,
    pub state: PinState,
    /// Milliseconds since the epoch; unique across the service (the spec paginates by it).
    pub created: i64,
    /// Why a pin failed (the spec's `info.status_details`).
    pub details: Option<String>,
    /// The CID of the request this one replaced: unpinned once this one is done.
    pub replaces: Option<String>,
}

pub struct Store {
    db: Mutex<Connection>,
    /// The last `created` handed out, so that the next one is larger.
    last_created: Mutex<i64>,
}

const COLUMNS: &str =
    "requestid, owner, cid, name, origins, meta, status, created, details, replaces";

fn record(r: &Row) -> rusqlite::Result<PinRecord> {
    let json = |i: usize| -> rusqlite::Result<Option<String>> { r.get(i) };
    let state: String = r.get(6)?;
    Ok(PinRecord {
        requestid: r.get(0)?,
        owner: r.get(1)?,
        pin: Pin {
            cid: r.get(2)?,
            name: r.get(3)?,
            origins: json(4)?.and_then(|s| serde_json::from_str(&s).ok()),
            meta: json(5)?.and_then(|s| serde_json::from_str(&s).ok()),
        },
        state: PinState::parse(&state).unwrap_or(PinState::Failed),
        created: r.get(7)?,
        details: r.get(8)?,
        replaces: r.get(9)?,
    })
}

fn text(e: rusqlite::Error) -> String {
    format!("database: {e}")
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, String> {
        let db = crate::sqlite::open(
            path,
            "CREATE TABLE IF NOT EXISTS pins (
                requestid TEXT PRIMARY KEY, owner TEXT NOT NULL, cid TEXT NOT NULL, name TEXT,
                origins TEXT, meta TEXT, status TEXT NOT NULL, created INTEGER NOT NULL UNIQUE,
                details TEXT, replaces TEXT);
             CREATE INDEX IF NOT EXISTS pins_by_owner ON pins (owner, created);
             CREATE INDEX IF NOT EXISTS pins_by_cid ON pins (cid);",
        )?;
        let last: i64 = db
            .query_row("SELECT COALESCE(MAX(created), 0) FROM pins", [], |r| {
                r.get(0)
            })
            .map_err(text)?;
        Ok(Store {
            db: Mutex::new(db),
            last_created: Mutex::new(last),
        })
    }

    /// A `created` time for a new request: now, or 1 ms after the last one.
    pub fn next_created(&self) -> i64 {
        let mut last = self.last_created.lock().unwrap();
        *last = crate::util::unix_now_ms().max(*last + 1);
        *last
    }

    pub fn insert(&self, r: &PinRecord) -> Result<(), String> {
        let db = self.db.lock().unwrap();
        insert(&db, r)
    }

    /// Replaces `old` by `new` in one transaction.
    pub fn replace(&self, old: &PinRecord, new: &PinRecord) -> Result<(), String> {
        let mut db = self.db.lock().unwrap();
        let tx = db.transaction().map_err(text)?;
        tx.execute("DELETE FROM pins WHERE requestid = ?1", [&old.requestid])
            .map_err(text)?;
        insert(&tx, new)?;
        tx.commit().map_err(text)
    }

    pub fn get(&self, owner: &str, requestid: &str) -> Result<Option<PinRecord>, String> {
        let db = self.db.lock().unwrap();
        db.query_row(
            &format!("SELECT {COLUMNS} FROM pins WHERE owner = ?1 AND requestid = ?2"),
            [owner, requestid],
            record,
        )
        .optional()
        .map_err(text)
    }

    /// The owner's requests, newest first.
    pub fn list(&self, owner: &str) -> Result<Vec<PinRecord>, String> {
        let db = self.db.lock().unwrap();
        let mut st = db
            .prepare(&format!(
                "SELECT {COLUMNS} FROM pins WHERE owner = ?1 ORDER BY created DESC"
            ))
            .map_err(text)?;
        let rows = st.query_map([owner], record).map_err(text)?;
        rows.collect::<Result<_, _>>().map_err(text)
    }

    /// Requests not yet done (after a restart they are pinned again).
    pub fn unfinished(&self) -> Result<Vec<PinRecord>, String> {
        let db = self.db.lock().unwrap();
        let mut st = db
            .prepare(&format!(
                "SELECT {COLUMNS} FROM pins WHERE status IN ('queued', 'pinning') ORDER BY created"
            ))
            .map_err(text)?;
        let rows = st.query_map([], record).map_err(text)?;
        rows.collect::<Result<_, _>>().map_err(text)
    }

    /// Moves a request on; false when it no longer exists (removed or replaced meanwhile).
    pub fn set_state(
        &self,
        requestid: &str,
        state: PinState,
        details: Option<&str>,
    ) -> Result<bool, String> {
        let db = self.db.lock().unwrap();
        let n = db
            .execute(
                "UPDATE pins SET status = ?2, details = ?3 WHERE requestid = ?1",
                params![requestid, state.word(), details],
            )
            .map_err(text)?;
        Ok(n > 0)
    }

    pub fn delete(&self, owner: &str, requestid: &str) -> Result<Option<PinRecord>, String> {
        let Some(r) = self.get(owner, requestid)? else {
            return Ok(None);
        };
        let db = self.db.lock().unwrap();
        db.execute("DELETE FROM pins WHERE requestid = ?1", [requestid])
            .map_err(text)?;
        Ok(Some(r))
    }

    /// Whether any request (of any owner) still wants `cid` pinned.
    pub fn cid_wanted(&self, cid: &str) -> Result<bool, String> {
        let db = self.db.lock().unwrap();
        db.query_row(
            "SELECT EXISTS (SELECT 1 FROM pins WHERE cid = ?1 AND status != 'failed')",
            [cid],
            |r| r.get(0),
        )
        .map_err(text)
    }
}

fn insert(db: &Connection, r: &PinRecord) -> Result<(), String> {
    let origins = r
        .pin
        .origins
        .as_ref()
        .map(|o| serde_json::to_string(o).unwrap_or_default());
    let meta = r
        .pin
        .meta
        .as_ref()
        .map(|m| serde_json::to_string(m).unwrap_or_default());
    db.execute(
        &format!("INSERT INTO pins ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
        params![
            r.requestid,
            r.owner,
            r.pin.cid,
            r.pin.name,
            origins,
            meta,
            r.state.word(),
            r.created,
            r.details,
            r.replaces
        ],
    )
    .map_err(text)?;
    Ok(())
}
