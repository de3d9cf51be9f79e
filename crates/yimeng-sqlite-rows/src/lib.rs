//! Bulk row writes and reads on SQLite through its C API.
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
        self.bind(values)?;
        let s = self.stmt.as_ptr();
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

    /// Binds `values` (one per parameter), steps through the result and calls `row` with each
    /// row, borrowed for that call only; then resets the statement. Read through sqlx, every
    /// value of every row is copied by SQLite (`sqlite3_value_dup`) and every row crosses a
    /// channel to another thread: at city scale (1.7 million students, 29 columns) that was more
    /// than half of an export's time.
    pub fn query<E: From<Error>>(
        &mut self,
        values: &[Val<'_>],
        mut row: impl FnMut(&Row<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.bind(values)?;
        let s = self.stmt.as_ptr();
        let result = loop {
            // SAFETY: `s` is live and fully bound.
            match unsafe { ffi::sqlite3_step(s) } {
                ffi::SQLITE_ROW => {
                    let r = Row {
                        stmt: self.stmt,
                        _borrow: PhantomData,
                    };
                    if let Err(e) = row(&r) {
                        break Err(e);
                    }
                }
                ffi::SQLITE_DONE => break Ok(()),
                rc => break Err(E::from(last_error(self.db, rc))),
            }
        };
        self.reset();
        result
    }

    /// Binds `values`, exactly one per parameter (reset on error).
    fn bind(&mut self, values: &[Val<'_>]) -> Result<(), Error> {
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
            // blobs are bound SQLITE_STATIC: they are borrowed by `values` for the whole call of
            // `execute` or `query`, each of which clears the bindings before it returns, so
            // SQLite never reads them after the borrow ends.
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
        Ok(())
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

/// The current row of a [`Statement::query`], valid for one call of its callback.
pub struct Row<'s> {
    stmt: NonNull<ffi::sqlite3_stmt>,
    _borrow: PhantomData<&'s ()>,
}

impl Row<'_> {
    /// Number of columns.
    pub fn len(&self) -> usize {
        // SAFETY: the statement is live and on a row for the borrow's duration.
        usize::try_from(unsafe { ffi::sqlite3_column_count(self.stmt.as_ptr()) }).unwrap_or(0)
    }

    /// True when the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when column `i` (from 0) is NULL.
    pub fn is_null(&self, i: usize) -> bool {
        // SAFETY: as in `len`; an index out of range reads as NULL.
        unsafe { ffi::sqlite3_column_type(self.stmt.as_ptr(), i as c_int) == ffi::SQLITE_NULL }
    }

    /// Column `i` as an integer (`None` when NULL).
    pub fn int(&self, i: usize) -> Option<i64> {
        if self.is_null(i) {
            return None;
        }
        // SAFETY: as in `len`.
        Some(unsafe { ffi::sqlite3_column_int64(self.stmt.as_ptr(), i as c_int) })
    }

    /// Column `i` as text (`None` when NULL), borrowed from SQLite until the next step.
    pub fn text(&self, i: usize) -> Result<Option<&str>, Error> {
        if self.is_null(i) {
            return Ok(None);
        }
        let s = self.stmt.as_ptr();
        // SAFETY: as in `len`. `sqlite3_column_text` converts the value to text first, then
        // `sqlite3_column_bytes` gives its length (the documented order); the pointer stays
        // valid until the statement steps, resets or is finalized, none of which can happen
        // while this row (which borrows the statement) lives.
        let bytes = unsafe {
            let p = ffi::sqlite3_column_text(s, i as c_int);
            let n = usize::try_from(ffi::sqlite3_column_bytes(s, i as c_int)).unwrap_or(0);
            if p.is_null() {
                return Ok(Some(""));
            }
            std::slice::from_raw_parts(p, n)
        };
        std::str::from_utf8(bytes).map(Some).map_err(|e| Error {
            code: ffi::SQLITE_MISMATCH,
            message: format!("第 {} 列不是有效的 UTF-8 文本：{e}", i + 1),
        })
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
