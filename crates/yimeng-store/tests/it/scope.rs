use crate::fixtures::*;
use crate::imports::*;
use yimeng_domain::*;
use yimeng_store::StoreError;
use yimeng_store::import::Mode;
use yimeng_testkit::TestDb;

#[tokio::test]
async fn a_county_never_sees_another_countys_records() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let fei = Scope::County(RegionCode::from_i32(FEIXIAN));
        let lan = Scope::County(RegionCode::from_i32(LANSHAN));
        let s = yimeng_store::school::get_by_code(
            &t.db,
            &Scope::City,
            &SchoolCode::parse("2137000001").unwrap(),
        )
        .await
        .unwrap();
        assert!(matches!(
            yimeng_store::school::get(&t.db, &fei, s.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(yimeng_store::school::get(&t.db, &lan, s.id).await.is_ok());
        let first = yimeng_store::student::page_after(&t.db, &lan, (0, 0), 1)
            .await
            .unwrap()
            .remove(0);
        assert!(matches!(
            yimeng_store::student::get(&t.db, &fei, first.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(
            yimeng_store::student::page_after(&t.db, &fei, (0, 0), 100)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            yimeng_store::school::briefs(&t.db, &fei)
                .await
                .unwrap()
                .len(),
            1
        );
    }
}

#[tokio::test]
async fn a_school_account_sees_its_school_only() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let a = yimeng_store::school::get_by_code(
            &t.db,
            &Scope::City,
            &SchoolCode::parse("2137000001").unwrap(),
        )
        .await
        .unwrap();
        let b = yimeng_store::school::get_by_code(
            &t.db,
            &Scope::City,
            &SchoolCode::parse("2137000002").unwrap(),
        )
        .await
        .unwrap();
        let scope = Scope::School(SchoolRef {
            county: RegionCode::from_i32(LANSHAN),
            id: b.id,
        });
        assert!(matches!(
            yimeng_store::school::get(&t.db, &scope, a.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(
            yimeng_store::student::page_after(&t.db, &scope, (0, 0), 100)
                .await
                .unwrap()
                .is_empty()
        );
        let own = Scope::School(SchoolRef {
            county: RegionCode::from_i32(LANSHAN),
            id: a.id,
        });
        assert_eq!(
            yimeng_store::student::page_after(&t.db, &own, (0, 0), 100)
                .await
                .unwrap()
                .len(),
            30
        );
    }
}

#[tokio::test]
async fn imports_stay_inside_the_importers_scope() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let fei = Scope::County(RegionCode::from_i32(FEIXIAN));
        // A county cannot register a school in another county, nor place students in one.
        let r = import_schools(
            &t.db,
            &fei,
            vec![school("2137000010", LANSHAN, SchoolType::Primary)],
            Mode::AllOrNothing,
        )
        .await;
        assert!(r.errors[0].reason.contains("本县区"), "{:?}", r.errors);
        let r = import_students(
            &t.db,
            &fei,
            vec![student("2137000001", Grade::P3, 1, 500)],
            Mode::AllOrNothing,
        )
        .await;
        assert!(
            r.errors[0].reason.contains("不在您的管辖范围"),
            "{:?}",
            r.errors
        );
        assert_eq!(count(&t.db, "student").await, 30);
    }
}

#[tokio::test]
async fn a_class_is_reached_through_its_school_and_a_scope_that_covers_it() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let school = |code: &'static str| {
            let db = t.db.clone();
            async move {
                yimeng_store::school::get_by_code(
                    &db,
                    &Scope::City,
                    &SchoolCode::parse(code).unwrap(),
                )
                .await
                .unwrap()
            }
        };
        let (a, b) = (school("2137000001").await, school("2137000002").await);
        let classes = yimeng_store::class::page_after(&t.db, &Scope::City, (0, 0), 10_000)
            .await
            .unwrap();
        let c = classes
            .iter()
            .find(|c| c.school_id == a.id)
            .expect("a class at school a");
        let grade = c.grade();
        let own = Scope::School(SchoolRef {
            county: RegionCode::from_i32(a.county_id),
            id: a.id,
        });
        let other = Scope::School(SchoolRef {
            county: RegionCode::from_i32(b.county_id),
            id: b.id,
        });
        let found = |scope: Scope, s: yimeng_store::school::SchoolRow| {
            let db = t.db.clone();
            let (year, no) = (c.school_year, c.class_no);
            async move {
                yimeng_store::class::find_in_school(&db, &scope, &s, year, grade, no)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(found(own.clone(), a.clone()).await, Some(c.id));
        // Another school's account holding school a's row still finds nothing.
        assert_eq!(found(other, a.clone()).await, None);
        assert_eq!(
            yimeng_store::class::get_in_school(&t.db, &a, c.id)
                .await
                .unwrap()
                .id,
            c.id
        );
        assert!(matches!(
            yimeng_store::class::get_in_school(&t.db, &b, c.id).await,
            Err(StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn export_pages_walk_every_county_in_key_order() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        // Schools: two in 兰山区, one in 费县, read one at a time across the county boundary.
        let mut after = (0i32, 0i64);
        let mut keys = Vec::new();
        loop {
            let page = yimeng_store::school::page_after(&t.db, &Scope::City, after, 1)
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            assert_eq!(page.len(), 1);
            after = (last.county_id, last.id);
            keys.push(after);
        }
        let all: Vec<(i32, i64)> =
            yimeng_store::school::page_after(&t.db, &Scope::City, (0, 0), 100)
                .await
                .unwrap()
                .iter()
                .map(|s| (s.county_id, s.id))
                .collect();
        assert_eq!(keys, all);
        assert_eq!(all.len(), 3);
        assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
        assert!(all.iter().any(|k| k.0 == LANSHAN) && all.iter().any(|k| k.0 == FEIXIAN));
        // Students in pages of 7: every row once, in key order.
        let mut after = (0i32, 0i64);
        let mut ids = Vec::new();
        loop {
            let page = yimeng_store::student::page_after(&t.db, &Scope::City, after, 7)
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = (last.county_id, last.id);
            ids.extend(page.iter().map(|s| (s.county_id, s.id)));
        }
        assert_eq!(ids.len(), 30);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    }
}

#[tokio::test]
async fn the_student_list_export_reads_the_lists_rows_in_its_order() {
    for t in TestDb::each().await {
        seed(&t.db).await;
        let a = yimeng_store::school::get_by_code(
            &t.db,
            &Scope::City,
            &SchoolCode::parse("2137000001").unwrap(),
        )
        .await
        .unwrap();
        let lan = Scope::County(RegionCode::from_i32(LANSHAN));
        for f in [
            yimeng_store::browse::StudentFilter {
                school: Some(a.id),
                ..Default::default()
            },
            yimeng_store::browse::StudentFilter::default(),
        ] {
            let mut listed = Vec::new();
            let mut pg = 1;
            loop {
                let p = yimeng_store::browse::students(&t.db, &lan, &f, pg, 4)
                    .await
                    .unwrap();
                listed.extend(p.items.iter().map(|s| s.id));
                if !p.has_next {
                    break;
                }
                pg += 1;
            }
            assert_eq!(listed.len(), 30);
            let mut read = Vec::new();
            yimeng_store::browse::students_each(&t.db, &lan, &f, 1_000, |s| {
                read.push(s.id);
                Ok(())
            })
            .await
            .unwrap();
            assert_eq!(read, listed);
            let mut first = Vec::new();
            yimeng_store::browse::students_each(&t.db, &lan, &f, 5, |s| {
                first.push(s.id);
                Ok(())
            })
            .await
            .unwrap();
            assert_eq!(first, listed[..5]);
        }
        // A list that is not narrow (the city, no county) is not exported.
        let f = yimeng_store::browse::StudentFilter::default();
        let mut n = 0;
        yimeng_store::browse::students_each(&t.db, &Scope::City, &f, 1_000, |_| {
            n += 1;
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(n, 0);
    }
}
