//! Installation settings: the tracker's clock is set, read, changed and cleared on both stores,
//! each change audited with its before and after; a stored value that is not a date is refused
//! with its name.

use yimeng_store::setting::{self, CLOCK_TODAY};
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_store::{Actor, StoreError};
use yimeng_testkit::TestDb;

#[tokio::test]
async fn the_clock_setting_is_set_changed_cleared_and_audited() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = Actor::system();
        assert_eq!(setting::clock_today(db).await.unwrap(), None);
        setting::set(db, &actor, CLOCK_TODAY, Some("2020-10-15"))
            .await
            .unwrap();
        assert_eq!(
            setting::clock_today(db)
                .await
                .unwrap()
                .map(|d| d.to_string()),
            Some("2020-10-15".into())
        );
        setting::set(db, &actor, CLOCK_TODAY, Some("2020-11-02"))
            .await
            .unwrap();
        // Setting the same value again changes nothing and writes no audit row.
        setting::set(db, &actor, CLOCK_TODAY, Some("2020-11-02"))
            .await
            .unwrap();
        assert_eq!(
            setting::get(db, CLOCK_TODAY).await.unwrap().as_deref(),
            Some("2020-11-02")
        );
        setting::set(db, &actor, CLOCK_TODAY, None).await.unwrap();
        assert_eq!(setting::clock_today(db).await.unwrap(), None);
        let rows: Vec<(String, Option<String>, Option<String>)> = db
            .all(Sql::new(
                "SELECT action, before_json, after_json FROM audit_log WHERE entity = 'app_setting' ORDER BY id",
            ))
            .await
            .unwrap();
        let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(actions, ["update", "update", "delete"], "{rows:?}");
        assert_eq!(
            rows[1].1.as_deref(),
            Some(r#"{"clock_today":"2020-10-15"}"#)
        );
        assert_eq!(
            rows[1].2.as_deref(),
            Some(r#"{"clock_today":"2020-11-02"}"#)
        );
        // A value that is not a date is named in the refusal.
        setting::set(db, &actor, CLOCK_TODAY, Some("秋季"))
            .await
            .unwrap();
        let e = setting::clock_today(db).await.unwrap_err();
        assert!(
            matches!(&e, StoreError::Invalid(m) if m.contains("clock_today") && m.contains("秋季")),
            "{e:?}"
        );
    }
}
