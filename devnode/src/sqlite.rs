//! Opening the SQLite databases of the broker and the pinning service: the folder created, WAL
//! (readers do not wait for the writer), the schema applied.

use std::path::Path;

use rusqlite::Connection;

pub fn open(path: &Path, schema: &str) -> Result<Connection, String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let db = Connection::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    db.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        .and_then(|_| db.execute_batch(schema))
        .map_err(|e| format!("cannot initialise {}: {e}", path.display()))?;
    Ok(db)
}
