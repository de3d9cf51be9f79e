//! Admission rounds (issue 6): upload → validate → dry run → publish, then frozen; the public
//! lookup matches the candidate number and the hashed ID number, nothing else.

use yimeng_domain::IdCardNo;
use yimeng_store::admission::{self, CutoffRow, ResultFilter, ResultRow};
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_store::{Actor, StoreError};
use yimeng_testkit::TestDb;

fn result(id: &str, seq: i32, school: Option<&str>) -> ResultRow {
    ResultRow {
        candidate_id: id.into(),
        seq,
        junior_school: "J1".into(),
        total: "600".into(),
        school_code: school.map(str::to_string),
        pool: school.map(|_| "general".to_string()),
        batch: school.map(|_| "第一批".to_string()),
        choice: school.map(|_| 1),
    }
}

#[tokio::test]
async fn a_round_goes_from_upload_to_publication_and_is_then_frozen_and_audited() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = Actor::system();
        let r = admission::create(db, &actor, 2026, "2026年中考统一招生", "salt-1")
            .await
            .unwrap();
        assert_eq!(r.status, admission::DRAFT);
        // The same name twice in a year is refused.
        assert!(matches!(
            admission::create(db, &actor, 2026, "2026年中考统一招生", "s").await,
            Err(StoreError::Conflict(_))
        ));
        let cand = b"candidate_id,junior_school,total,choice_1\nC1,J1,600,S1\nC2,J1,500,S1\n";
        admission::put_file(db, &actor, r.id, "candidates", "candidates.csv", cand)
            .await
            .unwrap();
        admission::put_file(
            db,
            &actor,
            r.id,
            "schools",
            "schools.csv",
            b"school_code,seats\nS1,1\n",
        )
        .await
        .unwrap();
        let (name, bytes) = admission::file_content(db, r.id, "candidates")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (name.as_str(), bytes.as_slice()),
            ("candidates.csv", &cand[..])
        );
        let card = IdCardNo::parse("11010519491231002X").unwrap();
        admission::put_identities(
            db,
            &actor,
            r.id,
            "candidate_ids.csv",
            "00",
            10,
            &[("C1".into(), card.clone())],
        )
        .await
        .unwrap();
        // No plaintext ID number anywhere in the round's tables.
        let stored: Vec<(String,)> = db
            .all(Sql::new("SELECT id_hash FROM admission_identity"))
            .await
            .unwrap();
        assert_eq!(stored.len(), 1);
        assert!(!stored[0].0.contains("11010519491231002"));
        let (_, ids_content) = admission::file_content(db, r.id, "candidate_ids")
            .await
            .unwrap()
            .unwrap();
        assert!(ids_content.is_empty());

        // A dry run before validation is refused.
        assert!(matches!(
            admission::save_dry_run(db, &actor, r.id, vec![], vec![], &serde_json::json!({})).await,
            Err(StoreError::Conflict(_))
        ));
        // A failed validation keeps the round in draft with its problems.
        let issues = serde_json::json!([{"file": "schools.csv", "row": 2, "reason": "x"}]);
        let v = admission::record_validation(db, &actor, r.id, Some(&issues), 1)
            .await
            .unwrap();
        assert_eq!(v.status, admission::DRAFT);
        assert!(v.issues_json.is_some());
        let v = admission::record_validation(db, &actor, r.id, None, 0)
            .await
            .unwrap();
        assert_eq!(v.status, admission::VALIDATED);
        // Publishing before a dry run is refused.
        assert!(matches!(
            admission::publish(db, &actor, r.id).await,
            Err(StoreError::Conflict(_))
        ));

        let cut = CutoffRow {
            seq: 0,
            school_code: "S1".into(),
            pool: "general".into(),
            junior_school: String::new(),
            planned: 1,
            capacity: 1,
            admitted: 1,
            min_total: Some("600".into()),
        };
        admission::save_dry_run(
            db,
            &actor,
            r.id,
            vec![result("C1", 0, Some("S1")), result("C2", 1, None)],
            vec![cut.clone()],
            &serde_json::json!({"placed": 1}),
        )
        .await
        .unwrap();
        assert_eq!(
            admission::get(db, r.id).await.unwrap().status,
            admission::DRY_RUN
        );
        let page = admission::results_page(db, r.id, &ResultFilter::default(), 1, 1)
            .await
            .unwrap();
        assert_eq!(
            (page.items.len(), page.total, page.has_next),
            (1, Some(2), true)
        );
        let unplaced = admission::results(
            db,
            r.id,
            &ResultFilter {
                candidate: None,
                school: Some("-".into()),
            },
        )
        .await
        .unwrap();
        assert_eq!(unplaced.len(), 1);
        assert_eq!(unplaced[0].candidate_id, "C2");
        // Before publication the public lookup finds nothing.
        assert!(matches!(
            admission::lookup(db, r.id, "C1", &card).await,
            Err(StoreError::NotFound)
        ));

        let p = admission::publish(db, &actor, r.id).await.unwrap();
        assert!(p.is_published() && p.published_at.is_some());
        assert_eq!(admission::published(db).await.unwrap().len(), 1);

        // Frozen: every write is refused and nothing changes.
        let frozen = |e: Result<_, StoreError>| matches!(e, Err(StoreError::Conflict(_)));
        assert!(frozen(
            admission::put_file(
                db,
                &actor,
                r.id,
                "schools",
                "schools.csv",
                b"school_code,seats\nS1,9\n"
            )
            .await
        ));
        assert!(frozen(
            admission::record_validation(db, &actor, r.id, None, 0)
                .await
                .map(|_| ())
        ));
        assert!(frozen(
            admission::save_dry_run(db, &actor, r.id, vec![], vec![], &serde_json::json!({})).await
        ));
        assert!(frozen(
            admission::put_identities(db, &actor, r.id, "x.csv", "00", 1, &[]).await
        ));
        assert!(frozen(
            admission::remove_file(db, &actor, r.id, "candidate_ids").await
        ));
        assert!(frozen(
            admission::publish(db, &actor, r.id).await.map(|_| ())
        ));
        assert_eq!(
            admission::get(db, r.id).await.unwrap().status,
            admission::PUBLISHED
        );
        assert_eq!(admission::cutoffs(db, r.id).await.unwrap(), vec![cut]);
        assert_eq!(
            admission::results(db, r.id, &ResultFilter::default())
                .await
                .unwrap()
                .len(),
            2
        );
        let (_, schools) = admission::file_content(db, r.id, "schools")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(schools, b"school_code,seats\nS1,1\n");

        // The candidate finds their own result with the right ID number, nothing with another.
        let found = admission::lookup(db, r.id, "C1", &card).await.unwrap();
        assert_eq!(found.school_code.as_deref(), Some("S1"));
        let other = IdCardNo::parse("110105194912310011").unwrap();
        assert!(matches!(
            admission::lookup(db, r.id, "C1", &other).await,
            Err(StoreError::NotFound)
        ));
        // C2 has no ID number on file: never found.
        assert!(matches!(
            admission::lookup(db, r.id, "C2", &card).await,
            Err(StoreError::NotFound)
        ));

        // Every step is in the audit log.
        let mut q = Sql::new(
            "SELECT action FROM audit_log WHERE entity = 'admission_round' AND entity_id = ",
        );
        q.bind(r.id).push(" ORDER BY id");
        let actions: Vec<String> = db
            .all::<(String,)>(q)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.0)
            .collect();
        assert_eq!(
            actions,
            [
                "create", "upload", "upload", "upload", "validate", "validate", "dry_run",
                "publish"
            ]
        );
    }
}
