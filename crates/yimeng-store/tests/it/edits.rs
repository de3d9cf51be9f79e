use crate::fixtures::*;
use crate::imports::*;
use yimeng_domain::*;
use yimeng_store::edit::{Saved, save_class, save_staff, save_student};
use yimeng_store::testing::{RawQuery, Sql};
use yimeng_testkit::TestDb;

async fn student_id(db: &yimeng_store::Db, name: &str) -> i64 {
    let mut q = Sql::new("SELECT id FROM student WHERE name = ");
    q.bind(name);
    db.one::<(i64,)>(q).await.unwrap().0
}

#[tokio::test]
async fn a_form_save_updates_a_student_records_the_reason_and_audits_the_change() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let lan = Scope::County(RegionCode::from_i32(LANSHAN));
        let id = student_id(&t.db, "学生4").await;
        let mut s = student("2137000001", Grade::P3, 1, 4);
        s.status = student::StudentStatus::Stopped;
        s.name = "学生四".into();
        let saved = save_student(
            &t.db,
            &lan,
            &actor(),
            s,
            Some(id),
            Some("违纪停学（附处分决定）".into()),
        )
        .await
        .unwrap();
        assert_eq!(saved, Saved::Ok(id));
        let (reason, source): (String, String) =
            t.db.one(Sql::new("SELECT reason, source FROM student_event"))
                .await
                .unwrap();
        assert_eq!(
            (reason.as_str(), source.as_str()),
            ("违纪停学（附处分决定）", "form")
        );
        let (summary, after): (String, String) = t
            .db
            .one(Sql::new("SELECT summary, after_json FROM audit_log WHERE action = 'update' AND entity = 'student'"))
            .await
            .unwrap();
        assert_eq!(summary, "修改学生信息");
        assert!(
            after.contains("学生四") && after.contains("\"status\":\"04\""),
            "{after}"
        );
        // No import batch for a form save.
        assert_eq!(count(&t.db, "import_batch").await, 4);
    }
}

#[tokio::test]
async fn correcting_an_id_number_moves_the_national_key() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let id = student_id(&t.db, "学生7").await;
        let mut s = student("2137000001", Grade::P3, 2, 7);
        let new_id = IdCardNo::compose(
            371302,
            chrono::NaiveDate::from_ymd_opt(2013, 5, 4).unwrap(),
            777,
        );
        s.sex = new_id.sex();
        s.id_card = Some(new_id.clone());
        let saved = save_student(&t.db, &Scope::City, &actor(), s, Some(id), None)
            .await
            .unwrap();
        assert_eq!(saved, Saved::Ok(id));
        let mut q = Sql::new("SELECT owner_id FROM person_key WHERE kind = 'id_card' AND value = ");
        q.bind(new_id.as_str());
        assert_eq!(t.db.one::<(i64,)>(q).await.unwrap().0, id);
        let old = IdCardNo::compose(
            371302,
            chrono::NaiveDate::from_ymd_opt(2013, 5, 4).unwrap(),
            7,
        );
        let mut q = Sql::new("SELECT COUNT(*) FROM person_key WHERE value = ");
        q.bind(old.as_str());
        assert_eq!(t.db.scalar(q).await.unwrap(), 0);
        // The freed number can now be given to a new student; the taken one cannot.
        let mut fresh = student("2137000001", Grade::P3, 1, 7);
        fresh.student_no = StudentNo::parse("L371302201305040007").unwrap();
        assert!(matches!(
            save_student(&t.db, &Scope::City, &actor(), fresh, None, None)
                .await
                .unwrap(),
            Saved::Ok(_)
        ));
        let mut dup = student("2137000001", Grade::P3, 1, 778);
        dup.id_card = Some(new_id);
        let saved = save_student(&t.db, &Scope::City, &actor(), dup, None, None)
            .await
            .unwrap();
        assert!(
            matches!(saved, Saved::Invalid(ref e) if e.iter().any(|e| e.field == "id_card")),
            "{saved:?}"
        );
    }
}

#[tokio::test]
async fn a_form_save_creates_records_with_an_audit_entry_each() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let lan = Scope::County(RegionCode::from_i32(LANSHAN));
        let Saved::Ok(sid) = save_staff(
            &t.db,
            &lan,
            &actor(),
            staff("2137000001", &teacher_id(9)),
            None,
        )
        .await
        .unwrap() else {
            panic!("staff not saved")
        };
        let mut c = class("2137000001", Grade::P4, 1);
        c.head_teacher = Some(teacher_id(9));
        let Saved::Ok(cid) = save_class(&t.db, &lan, &actor(), c, None).await.unwrap() else {
            panic!("class not saved")
        };
        let head: (Option<i64>,) =
            t.db.one({
                let mut q = Sql::new("SELECT head_teacher_id FROM class WHERE id = ");
                q.bind(cid);
                q
            })
            .await
            .unwrap();
        assert_eq!(head.0, Some(sid));
        let creates: i64 =
            t.db.scalar(Sql::new(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'create'",
            ))
            .await
            .unwrap();
        assert_eq!(creates, 2);
        // Renumbering the class onto an existing one is refused.
        let mut c = class("2137000001", Grade::P3, 1);
        c.name = "三年级（1）班".into();
        let saved = save_class(&t.db, &lan, &actor(), c, Some(cid))
            .await
            .unwrap();
        assert!(
            matches!(saved, Saved::Invalid(ref e) if e[0].reason.contains("已有相同")),
            "{saved:?}"
        );
    }
}

#[tokio::test]
async fn a_form_save_cannot_reach_a_record_outside_the_scope() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let fei = Scope::County(RegionCode::from_i32(FEIXIAN));
        let id = student_id(&t.db, "学生1").await;
        let saved = save_student(
            &t.db,
            &fei,
            &actor(),
            student("2137000003", Grade::J1, 1, 1),
            Some(id),
            None,
        )
        .await
        .unwrap();
        assert!(matches!(saved, Saved::Invalid(_)), "{saved:?}");
        let name: (String,) =
            t.db.one({
                let mut q = Sql::new("SELECT name FROM student WHERE id = ");
                q.bind(id);
                q
            })
            .await
            .unwrap();
        assert_eq!(name.0, "学生1");
    }
}
