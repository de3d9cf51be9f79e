//! Rows written through the C API read back through sqlx exactly as bound, and SQLite's refusals
//! come back as errors that leave the statement usable.

use sqlx::{Connection, Row, SqliteConnection};
use yimeng_sqlite_rows::{Statement, Val};

async fn conn() -> SqliteConnection {
    let mut c = SqliteConnection::connect("sqlite::memory:").await.unwrap();
    sqlx::query("CREATE TABLE t (k INTEGER PRIMARY KEY, n INTEGER, x REAL, s TEXT, b BLOB) STRICT")
        .execute(&mut c)
        .await
        .unwrap();
    c
}

#[tokio::test]
async fn rows_read_back_as_they_were_bound() {
    let mut c = conn().await;
    let texts = ["李明帅", "O'Brien; DROP TABLE t; --", "=1+2", "a\0b", ""];
    {
        let mut lock = c.lock_handle().await.unwrap();
        let mut st = Statement::prepare(&mut lock, "INSERT INTO t VALUES (?, ?, ?, ?, ?)").unwrap();
        assert_eq!(st.parameter_count(), 5);
        for (i, s) in texts.iter().enumerate() {
            let owned = s.to_string();
            st.execute(&[
                Val::Int(i as i64),
                Val::Int(-(i as i64) * 1_000_000_007),
                Val::Real(i as f64 / 4.0),
                Val::Text(&owned),
                Val::Blob(owned.as_bytes()),
            ])
            .unwrap();
        }
        st.execute(&[Val::Int(99), Val::Null, Val::Null, Val::Null, Val::Null])
            .unwrap();
    }
    let rows = sqlx::query("SELECT k, n, x, s, b FROM t ORDER BY k")
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert_eq!(rows.len(), texts.len() + 1);
    for (i, s) in texts.iter().enumerate() {
        let r = &rows[i];
        assert_eq!(r.get::<i64, _>(0), i as i64);
        assert_eq!(r.get::<i64, _>(1), -(i as i64) * 1_000_000_007);
        assert_eq!(r.get::<f64, _>(2), i as f64 / 4.0);
        assert_eq!(r.get::<String, _>(3), *s);
        assert_eq!(r.get::<Vec<u8>, _>(4), s.as_bytes());
    }
    let last = &rows[texts.len()];
    assert_eq!(last.get::<Option<i64>, _>(1), None);
    assert_eq!(last.get::<Option<String>, _>(3), None);
}

#[tokio::test]
async fn a_duplicate_key_is_a_unique_violation_and_the_statement_goes_on() {
    let mut c = conn().await;
    {
        let mut lock = c.lock_handle().await.unwrap();
        let mut st = Statement::prepare(&mut lock, "INSERT INTO t (k, s) VALUES (?, ?)").unwrap();
        st.execute(&[Val::Int(1), Val::Text("一")]).unwrap();
        let e = st.execute(&[Val::Int(1), Val::Text("二")]).unwrap_err();
        assert!(e.is_unique_violation(), "{e:?}");
        assert!(e.message.contains("UNIQUE"), "{}", e.message);
        st.execute(&[Val::Int(2), Val::Text("三")]).unwrap();
    }
    let got: Vec<(i64, String)> = sqlx::query_as("SELECT k, s FROM t ORDER BY k")
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert_eq!(got, vec![(1, "一".into()), (2, "三".into())]);
}

#[tokio::test]
async fn a_type_error_and_a_wrong_value_count_are_refused_without_a_row() {
    let mut c = conn().await;
    {
        let mut lock = c.lock_handle().await.unwrap();
        let mut st = Statement::prepare(&mut lock, "INSERT INTO t (k, n) VALUES (?, ?)").unwrap();
        let e = st.execute(&[Val::Int(1)]).unwrap_err();
        assert!(e.message.contains("参数个数不符"), "{}", e.message);
        // STRICT table: text in an INTEGER column is refused.
        let e = st.execute(&[Val::Int(1), Val::Text("abc")]).unwrap_err();
        assert!(!e.is_unique_violation());
        assert!(e.message.contains("cannot store TEXT"), "{}", e.message);
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_bad_statement_is_an_error_with_sqlite_message() {
    let mut c = conn().await;
    let mut lock = c.lock_handle().await.unwrap();
    let Err(e) = Statement::prepare(&mut lock, "INSERT INTO missing VALUES (?)") else {
        panic!("prepared a statement on a missing table");
    };
    assert!(e.message.contains("no such table"), "{}", e.message);
}

#[tokio::test]
async fn a_query_reads_what_sqlx_reads_and_stops_on_the_callers_error() {
    let mut c = conn().await;
    let texts = ["李明帅", "O'Brien; DROP TABLE t; --", "=1+2", ""];
    for (i, s) in texts.iter().enumerate() {
        sqlx::query("INSERT INTO t VALUES (?, ?, NULL, ?, NULL)")
            .bind(i as i64)
            .bind(-(i as i64) * 1_000_000_007)
            .bind(*s)
            .execute(&mut c)
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO t VALUES (99, NULL, NULL, NULL, NULL)")
        .execute(&mut c)
        .await
        .unwrap();
    let mut lock = c.lock_handle().await.unwrap();
    let mut st =
        Statement::prepare(&mut lock, "SELECT k, n, s FROM t WHERE k >= ? ORDER BY k").unwrap();
    let mut seen: Vec<(i64, Option<i64>, Option<String>)> = Vec::new();
    st.query(
        &[Val::Int(0)],
        |r| -> Result<(), yimeng_sqlite_rows::Error> {
            assert_eq!(r.len(), 3);
            seen.push((r.int(0).unwrap(), r.int(1), r.text(2)?.map(str::to_string)));
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(seen.len(), texts.len() + 1);
    for (i, s) in texts.iter().enumerate() {
        assert_eq!(
            seen[i],
            (
                i as i64,
                Some(-(i as i64) * 1_000_000_007),
                Some(s.to_string())
            )
        );
    }
    assert_eq!(seen[texts.len()], (99, None, None));
    // The caller's error ends the read, and the statement can be queried again.
    let mut n = 0;
    let r = st.query(&[Val::Int(0)], |_| {
        n += 1;
        if n == 2 {
            Err(yimeng_sqlite_rows::Error {
                code: 1,
                message: "stop".into(),
            })
        } else {
            Ok(())
        }
    });
    assert_eq!(r.unwrap_err().message, "stop");
    assert_eq!(n, 2);
    let mut again = 0;
    st.query(
        &[Val::Int(99)],
        |_| -> Result<(), yimeng_sqlite_rows::Error> {
            again += 1;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(again, 1);
    // A wrong parameter count is refused.
    assert!(
        st.query(&[], |_| -> Result<(), yimeng_sqlite_rows::Error> { Ok(()) })
            .is_err()
    );
}
