//! Bulk row writes on SQLite through its C API.
//!
//! Owns: one prepared statement on the writer connection of the store, with rows bound straight
//! from borrowed values and stepped one by one. Bound through sqlx, every value costs an owned
//! copy and a trip through sqlx's worker thread; at city scale (1.7 million students, 29 columns)
//! that overhead alone was as long as SQLite's own work.
//!
//! Must not: open connections, begin or end transactions, or know any table. The caller locks
//! the connection (`SqliteConnection::lock_handle`) inside its transaction and passes the lock
//! here; while a [`Statement`] lives the lock is borrowed, so nothing else can use the
//! connection.

use libsqlite3_sys as ffi;
use sqlx::sqlite::LockedSqliteHandle;
use std::ffi::{CStr, c_int};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// One value to bind, borrowed for the duration of one [`Statement::execute`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val<'a> {
    /// NULL.
    Null,
    /// INTEGER.
    Int(i64),
    /// REAL.
    Real(f64),
    /// TEXT (UTF-8).
    Text(&'a str),
    /// BLOB.
    Blob(&'a [u8]),
}

/// An error SQLite reported: its extended result code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Extended result code (`SQLITE_CONSTRAINT_UNIQUE` = 2067, …).
    pub code: i32,
    /// SQLite's message.
    pub message: String,
}

impl Error {
    /// True when a UNIQUE or PRIMARY KEY constraint refused the row.
    pub fn is_unique_violation(&self) -> bool {
        self.code == ffi::SQLITE_CONSTRAINT_UNIQUE || self.code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}（SQLite 错误码 {}）", self.message, self.code)
    }
}

impl std::error::Error for Error {}

/// A prepared statement on a locked connection; finalized when dropped.
pub struct Statement<'h> {
    db: NonNull<ffi::sqlite3>,
    stmt: NonNull<ffi::sqlite3_stmt>,
    params: usize,
    /// The connection lock is borrowed mutably for as long as the statement lives.
    _lock: PhantomData<&'h mut ()>,
}

impl<'h> Statement<'h> {
    /// Prepares `sql` (one statement) on the locked connection.
    pub fn prepare(
        lock: &'h mut LockedSqliteHandle<'_>,
        sql: &str,
    ) -> Result<Statement<'h>, Error> {
        let db = lock.as_raw_handle();
        let len = c_int::try_from(sql.len()).map_err(|_| Error {
            code: ffi::SQLITE_TOOBIG,
            message: "语句过长".into(),
        })?;
        let mut stmt: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
        // SAFETY: `db` is the open connection behind the lock we hold mutably for 'h; `sql` is
        // valid for `len` bytes; `stmt` is a valid out-pointer. PERSISTENT: reused many times.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db.as_ptr(),
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(last_error(db, rc));
        }
        let Some(stmt) = NonNull::new(stmt) else {
            return Err(Error {
                code: ffi::SQLITE_MISUSE,
                message: "空语句".into(),
            });
        };
        // SAFETY: `stmt` was just prepared on this connection and is not finalized.
        let params = unsafe { ffi::sqlite3_bind_parameter_count(stmt.as_ptr()) };
        Ok(Statement {
            db,
            stmt,
            params: usize::try_from(params).unwrap_or(0),
            _lock: PhantomData,
        })
    }

    /// Number of `?` parameters.
    pub fn parameter_count(&self) -> usize {
        self.params
    }

    /// Binds `values` (exactly one per parameter, in order), runs the statement to its end and
    /// resets it for the next row.
    pub fn execute(&mut self, values: &[Val<'_>]) -> Result<(), Error> {
        if values.len() != self.params {
            return Err(Error {
                code: ffi::SQLITE_RANGE,
                message: format!(
                    "参数个数不符：语句需要 {}，给出 {}",
                    self.params,
                    values.len()
                ),
            });
        }
        let s = self.stmt.as_ptr();
        for (i, v) in values.iter().enumerate() {
            let at = (i + 1) as c_int;
            // SAFETY: `s` is a live prepared statement and `at` is within 1..=params. Text and
            // blobs are bound SQLITE_STATIC: they are borrowed by `values` for this whole call,
            // and the bindings are cleared below before the call returns, so SQLite never reads
            // them after the borrow ends.
            let rc = unsafe {
                match *v {
                    Val::Null => ffi::sqlite3_bind_null(s, at),
                    Val::Int(n) => ffi::sqlite3_bind_int64(s, at, n),
                    Val::Real(x) => ffi::sqlite3_bind_double(s, at, x),
                    Val::Text(t) => ffi::sqlite3_bind_text64(
                        s,
                        at,
                        t.as_ptr().cast(),
                        t.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    Val::Blob(b) => ffi::sqlite3_bind_blob64(
                        s,
                        at,
                        b.as_ptr().cast(),
                        b.len() as u64,
                        ffi::SQLITE_STATIC(),
                    ),
                }
            };
            if rc != ffi::SQLITE_OK {
                // Read the message before the reset, which would replace it.
                let e = last_error(self.db, rc);
                self.reset();
                return Err(e);
            }
        }
        let result = loop {
            // SAFETY: `s` is live and fully bound.
            match unsafe { ffi::sqlite3_step(s) } {
                ffi::SQLITE_ROW => continue,
                ffi::SQLITE_DONE => break Ok(()),
                rc => break Err(last_error(self.db, rc)),
            }
        };
        self.reset();
        result
    }

    /// Resets the statement and drops every binding (no borrowed value stays bound).
    fn reset(&mut self) {
        let s = self.stmt.as_ptr();
        // SAFETY: `s` is live. The result of reset repeats the step's error, already reported.
        unsafe {
            ffi::sqlite3_reset(s);
            ffi::sqlite3_clear_bindings(s);
        }
    }
}

impl Drop for Statement<'_> {
    fn drop(&mut self) {
        // SAFETY: `stmt` is live and finalized exactly once, here.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

/// The connection's last error, with its extended code.
fn last_error(db: NonNull<ffi::sqlite3>, rc: c_int) -> Error {
    // SAFETY: `db` is the open connection; the message is a NUL-terminated string owned by
    // SQLite, copied out at once.
    let (code, message) = unsafe {
        let code = ffi::sqlite3_extended_errcode(db.as_ptr());
        let msg = ffi::sqlite3_errmsg(db.as_ptr());
        let message = if msg.is_null() {
            String::new()
        } else {
            CStr::from_ptr(msg).to_string_lossy().into_owned()
        };
        (code, message)
    };
    Error {
        code: if code == 0 { rc } else { code },
        message,
    }
}
