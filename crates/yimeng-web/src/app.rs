//! The application: state, router, middleware, and the server with graceful shutdown.

use crate::auth::Throttle;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use yimeng_domain::Rules;
use yimeng_store::Db;

/// Settings of the web server.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Trust `X-Forwarded-For` (behind the bureau's reverse proxy).
    pub trust_proxy: bool,
    /// Mark cookies `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// Largest upload of one request (import files; routes for materials keep smaller limits).
    pub max_upload_bytes: usize,
    /// Memory budget of all uploads being received at once (`[web] upload_budget_mb`): a
    /// multipart body that does not fit into what is left is refused with 503 and `Retry-After`
    /// (see [`crate::upload_budget`]).
    pub upload_budget_bytes: usize,
    /// Where uploads wait between the check and the import.
    pub upload_dir: PathBuf,
    /// The day the plan tracker judges progress at instead of the real date (a demo city lives in
    /// its plan's year; the stored setting `clock_today`, see `yimeng clock`).
    pub clock: Option<chrono::NaiveDate>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            trust_proxy: false,
            secure_cookies: false,
            max_upload_bytes: 512 * 1024 * 1024,
            upload_budget_bytes: 1024 * 1024 * 1024,
            upload_dir: std::env::temp_dir().join("yimeng-uploads"),
            clock: None,
        }
    }
}

/// An uploaded file waiting for the user to confirm its import.
#[derive(Debug, Clone)]
pub struct PendingImport {
    /// Who uploaded it (only they may commit it).
    pub user_id: i64,
    /// Which table.
    pub table: yimeng_io::Table,
    /// The file.
    pub path: PathBuf,
    /// Its name.
    pub file_name: String,
    /// Mode chosen.
    pub mode: yimeng_store::import::Mode,
    /// When it was checked.
    pub at: Instant,
    /// The check's errors, for the error sheet.
    pub errors: Vec<crate::service::import::ErrorLine>,
}

/// A school page's figures with the county and data version they were computed at.
pub type SchoolEntry = (i32, i64, Arc<yimeng_store::browse::SchoolDetail>);
/// Figures of whole counties, each kept until its county's data next changes: an entry is used
/// only while the county's data version (raised in the same transaction as every registry write,
/// the command line's imports included) is the one it was computed at. Each county has its own
/// lock, so concurrent requests for a stale county wait for one computation instead of each
/// running their own, and a write in one county leaves the others' entries in place.
pub struct CountyCache<T> {
    slots: Mutex<HashMap<i32, CountySlot<T>>>,
}

type CountySlot<T> = Arc<tokio::sync::Mutex<Option<(i64, Arc<T>)>>>;

impl<T> Default for CountyCache<T> {
    fn default() -> Self {
        CountyCache {
            slots: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> CountyCache<T> {
    /// The entry of `county` at data `version`, computed by `compute` when missing or older. The
    /// caller reads the version before `compute` reads the data: a write landing in between
    /// makes the entry look older than it is (computed again next time), never newer.
    pub async fn get_or_compute<F, Fut>(
        &self,
        county: i32,
        version: i64,
        compute: F,
    ) -> Result<Arc<T>, crate::error::Failure>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, crate::error::Failure>>,
    {
        let slot = Arc::clone(
            self.slots
                .lock()
                .expect("county cache lock")
                .entry(county)
                .or_default(),
        );
        let mut slot = slot.lock().await;
        if let Some((v, t)) = slot.as_ref()
            && *v == version
        {
            return Ok(Arc::clone(t));
        }
        let t = Arc::new(compute().await?);
        *slot = Some((version, Arc::clone(&t)));
        Ok(t)
    }
}
/// The tracker's live board with the key it was computed at.
pub type BoardEntry = (String, Arc<crate::service::tracker::Board>);

/// Shared state.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub db: Db,
    /// Web settings.
    pub config: Arc<WebConfig>,
    /// Local rules.
    pub rules: Arc<Rules>,
    /// Login throttle.
    pub throttle: Arc<Throttle>,
    /// The public service pages' throttle (applications, requests, lookups).
    pub public_throttle: Arc<Throttle>,
    /// Recently authenticated sessions and tokens.
    pub auth_cache: Arc<crate::auth::AuthCache>,
    /// The upload memory budget.
    pub upload_budget: Arc<crate::upload_budget::UploadBudget>,
    /// Checked uploads waiting for confirmation, by token.
    pub imports: Arc<Mutex<HashMap<String, PendingImport>>>,
    /// School pages' figures by school id, with the county's data version they were computed at.
    pub schools: Arc<Mutex<HashMap<i64, SchoolEntry>>>,
    /// Registry counts of whole counties.
    pub county_stats: Arc<CountyCache<yimeng_store::stats::Stats>>,
    /// Home page figures of whole counties.
    pub county_dashboards: Arc<CountyCache<crate::pages::home::Dashboard>>,
    /// The plan tracker's live figures, with the key they were computed at (plan text, county
    /// data versions, tracker generation).
    pub board: Arc<Mutex<Option<BoardEntry>>>,
    /// Raised by every change the tracker's figures depend on besides the registry (approved
    /// reports, population figures, a new plan).
    pub tracker_generation: Arc<std::sync::atomic::AtomicU64>,
    /// The context the plan tracker's city board and the monthly snapshots run in, handed over
    /// by the binary's entry point; private, so that no handler can borrow it for a city scope.
    system: yimeng_store::SystemContext,
}

impl AppState {
    /// State over a store.
    pub fn new(
        db: Db,
        config: WebConfig,
        rules: Rules,
        system: yimeng_store::SystemContext,
    ) -> AppState {
        let _ = std::fs::create_dir_all(&config.upload_dir);
        let upload_budget = Arc::new(crate::upload_budget::UploadBudget::new(
            config.upload_budget_bytes,
        ));
        AppState {
            db,
            config: Arc::new(config),
            rules: Arc::new(rules),
            throttle: Arc::new(Throttle::default()),
            public_throttle: Arc::new(Throttle::default()),
            auth_cache: Arc::new(crate::auth::AuthCache::default()),
            upload_budget,
            imports: Arc::new(Mutex::new(HashMap::new())),
            county_stats: Arc::default(),
            county_dashboards: Arc::default(),
            schools: Arc::new(Mutex::new(HashMap::new())),
            board: Arc::new(Mutex::new(None)),
            tracker_generation: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            system,
        }
    }
}

impl AppState {
    /// A school's figures (status breakdown, class sizes, staff by post), computed once per
    /// change of its county's data: the entry is used only while the county's data version is
    /// the one it was computed at, and only for a scope that covers the school.
    pub async fn school_detail(
        &self,
        scope: &yimeng_domain::Scope,
        id: i64,
    ) -> Result<Arc<yimeng_store::browse::SchoolDetail>, crate::error::Failure> {
        let hit = self
            .schools
            .lock()
            .expect("school cache lock")
            .get(&id)
            .cloned();
        if let Some((county, version, d)) = hit
            && scope.covers_school(yimeng_domain::RegionCode::from_i32(county), id)
            && yimeng_store::region::data_version(&self.db, county).await? == version
        {
            return Ok(d);
        }
        // The version is read before the figures: a write landing in between makes the entry
        // look older than it is (recomputed next time), never newer.
        let school = yimeng_store::school::get(&self.db, scope, id).await?;
        let version = yimeng_store::region::data_version(&self.db, school.county_id).await?;
        let d =
            Arc::new(yimeng_store::browse::school_detail(&self.db, scope, &self.rules, id).await?);
        let mut map = self.schools.lock().expect("school cache lock");
        if map.len() >= 4096 {
            map.clear();
        }
        map.insert(id, (school.county_id, version, Arc::clone(&d)));
        Ok(d)
    }
}

impl AppState {
    /// The registry counts of a scope. The counts of each whole county in scope are computed once
    /// per change of its data (its data version, raised by every registry write, imports by
    /// the command line included) and reused by every scope that covers the county, so a city
    /// user's request after a write in one county recounts that county only. A scope of single
    /// schools (a school, an inspector) is counted directly: it is small.
    pub async fn stats(
        &self,
        scope: &yimeng_domain::Scope,
    ) -> Result<Arc<yimeng_store::stats::Stats>, crate::error::Failure> {
        if scope.schools().is_some() {
            return Ok(Arc::new(
                yimeng_store::stats::compute(&self.db, scope).await?,
            ));
        }
        let versions = self.county_versions().await?;
        let mut all = yimeng_store::stats::Stats::default();
        for county in scope.counties() {
            let Some(part) = scope.narrow_to_county(county) else {
                continue;
            };
            let code = county.get();
            let version = versions.get(&code).copied().unwrap_or(0);
            let counts = self
                .county_stats
                .get_or_compute(code, version, || async {
                    Ok(yimeng_store::stats::compute(&self.db, &part).await?)
                })
                .await?;
            all.cells
                .extend(counts.cells.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Ok(Arc::new(all))
    }

    /// Every county's data version, by county code (read before the figures they key).
    pub async fn county_versions(&self) -> Result<HashMap<i32, i64>, crate::error::Failure> {
        Ok(yimeng_store::region::data_versions(&self.db)
            .await?
            .into_iter()
            .collect())
    }

    /// The current plan.
    pub async fn plan(
        &self,
    ) -> Result<(yimeng_store::plan::PlanRow, Arc<yimeng_domain::plan::Plan>), crate::error::Failure>
    {
        // A store without a plan (a fresh database served without the demo) gets the seed plan.
        let row = match yimeng_store::plan::current(&self.db).await? {
            Some(r) => r,
            None => {
                crate::service::tracker::ensure_plan(&self.db).await?;
                yimeng_store::plan::current(&self.db)
                    .await?
                    .ok_or(crate::error::Failure::NotFound)?
            }
        };
        let plan = Arc::new(row.plan()?);
        Ok((row, plan))
    }

    /// The tracker's figures at `date` (today when `None` or not in the past): live figures are
    /// reused while nothing they depend on has changed; past dates read the snapshot of then.
    pub async fn board(
        &self,
        date: Option<chrono::NaiveDate>,
    ) -> Result<Arc<crate::service::tracker::Board>, crate::error::Failure> {
        use crate::service::tracker;
        let (row, plan) = self.plan().await?;
        let today = self.tracker_today();
        let live_date = tracker::default_date(&plan, today);
        // Figures of a past day are the ones a snapshot recorded then; today's are live.
        if let Some(d) = date
            && d < today
        {
            return match tracker::from_snapshot(&self.db, plan, d).await? {
                Some(b) => Ok(Arc::new(b)),
                None => Err(crate::error::Failure::BadRequest(format!(
                    "{d} 及以前没有指标快照，无法查看该日的数据（快照每月自动生成，也可手动生成）"
                ))),
            };
        }
        let versions = yimeng_store::region::data_versions(&self.db).await?;
        let generation = self
            .tracker_generation
            .load(std::sync::atomic::Ordering::SeqCst);
        let key = format!(
            "{}:{generation}:{versions:?}:{live_date}",
            row.source_sha256
        );
        if let Some((k, b)) = self.board.lock().expect("board lock").as_ref()
            && *k == key
        {
            return Ok(Arc::clone(b));
        }
        let b = Arc::new(
            tracker::compute_live(&self.db, &self.system, &self.rules, plan, today).await?,
        );
        *self.board.lock().expect("board lock") = Some((key, Arc::clone(&b)));
        Ok(b)
    }

    /// The day the plan tracker judges progress at: the configured clock (a demo city's day in its
    /// plan's year), else today.
    pub fn tracker_today(&self) -> chrono::NaiveDate {
        self.config.clock.unwrap_or_else(crate::service::today)
    }

    /// Marks the tracker's live figures stale.
    pub fn tracker_changed(&self) {
        self.tracker_generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Content Security Policy: our own scripts and styles only.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
                       connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";

/// The whole application.
pub fn router(state: AppState) -> Router {
    use crate::api::admission as api_admission;
    use crate::pages::*;
    let upload_limit = state.config.max_upload_bytes;
    let pages = Router::new()
        .route("/", get(home::show))
        .route("/healthz", get(session::healthz))
        .route("/login", get(session::login_form).post(session::login))
        .route("/logout", post(session::logout))
        .route("/lang/{code}", get(session::set_lang))
        .route("/regions/{code}", get(home::region))
        .route("/schools", get(schools::list).post(schools::create))
        .route("/schools/new", get(schools::new_form))
        .route("/schools/{id}", get(schools::show).post(schools::update))
        .route("/schools/{id}/edit", get(schools::edit_form))
        .route("/classes", get(classes::list).post(classes::create))
        .route("/classes/new", get(classes::new_form))
        .route("/classes/{id}", get(classes::show).post(classes::update))
        .route("/classes/{id}/edit", get(classes::edit_form))
        .route("/students", get(students::list).post(students::create))
        .route("/students/new", get(students::new_form))
        .route("/students/{id}", get(students::show).post(students::update))
        .route("/students/{id}/edit", get(students::edit_form))
        .route(
            "/students/{id}/status",
            get(students::status_form).post(students::change_status),
        )
        .route("/staff", get(staff::list).post(staff::create))
        .route("/staff/new", get(staff::new_form))
        .route("/staff/{id}", get(staff::show).post(staff::update))
        .route("/staff/{id}/edit", get(staff::edit_form))
        .route("/search", get(search::show))
        .route(
            "/import",
            get(import::form)
                .post(import::check)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/import/{token}/commit", post(import::commit))
        .route("/import/{token}/errors.xlsx", get(import::errors))
        .route("/templates/{table}", get(import::template))
        .route("/export/{table}", get(import::export_registry))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/new", get(admin::new_user))
        .route("/admin/users/{id}", get(admin::user))
        .route("/admin/users/{id}/disable", post(admin::disable))
        .route("/admin/users/{id}/enable", post(admin::enable))
        .route("/admin/users/{id}/reset", post(admin::reset))
        .route("/admin/users/{id}/schools", post(admin::assign))
        .route("/admin/audit", get(admin::audit))
        .route("/account", get(account::show))
        .route("/account/password", post(account::change_password))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/directory", get(public::directory))
        // The plan tracker and monthly dispatch.
        .route("/plan", get(plan::overview))
        .route("/plan/items/{n}", get(plan::item))
        .route(
            "/plan/population",
            get(plan::population).post(plan::set_population),
        )
        .route("/plan/snapshots", post(plan::snapshot))
        .route("/plan/appraisal", get(plan::appraisal))
        .route("/plan/report", get(dispatch::half_year))
        .route("/indicators", get(plan::indicators))
        .route("/indicators/{code}", get(plan::indicator))
        .route("/indicators/{code}/rows", get(plan::rows))
        .route("/dispatch", get(dispatch::show))
        .route("/dispatch/review", get(dispatch::review_list))
        .route(
            "/dispatch/tasks/{code}",
            get(dispatch::form)
                .post(dispatch::save)
                .layer(DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route("/dispatch/reports/{county}/{id}", get(dispatch::report))
        .route(
            "/dispatch/reports/{county}/{id}/review",
            post(dispatch::review),
        )
        .route("/dispatch/files/{county}/{id}", get(dispatch::file))
        // Student-status services (issue 5): catalogue, calendar, transfers, status requests.
        .route("/services", get(services::catalogue))
        .route(
            "/admin/services/{code}",
            get(services::service_form).post(services::save_service),
        )
        .route(
            "/admin/calendar",
            get(services::calendar).post(services::add_day),
        )
        .route("/admin/calendar/{day}/delete", post(services::remove_day))
        .route(
            "/transfers",
            get(services::transfers).post(services::create_transfer),
        )
        .route("/transfers/new", get(services::new_transfer))
        // Across the city boundary: 外市转入 / 转出本市, with the required material uploaded.
        .route(
            "/transfers/incoming",
            get(transfer_city::incoming_form)
                .post(transfer_city::create_incoming)
                .layer(DefaultBodyLimit::max(16 * 1024 * 1024)),
        )
        .route(
            "/transfers/outgoing",
            get(transfer_city::outgoing_form)
                .post(transfer_city::create_outgoing)
                .layer(DefaultBodyLimit::max(16 * 1024 * 1024)),
        )
        .route(
            "/transfers/{county}/{id}/files/{file}",
            get(transfer_city::file),
        )
        .route(
            "/public/transfer/incoming",
            get(transfer_city::public_incoming_form)
                .post(transfer_city::public_incoming)
                .layer(DefaultBodyLimit::max(16 * 1024 * 1024)),
        )
        .route(
            "/public/transfer/outgoing",
            get(transfer_city::public_outgoing_form)
                .post(transfer_city::public_outgoing)
                .layer(DefaultBodyLimit::max(16 * 1024 * 1024)),
        )
        .route("/transfers/{county}/{id}", get(services::show_transfer))
        .route(
            "/transfers/{county}/{id}/decide",
            post(services::decide_transfer),
        )
        .route(
            "/status-requests/{county}/{id}/decide",
            post(services::decide_status),
        )
        .route(
            "/public/transfer",
            get(services::public_transfer_form).post(services::public_transfer),
        )
        .route(
            "/public/transfer/status",
            get(services::transfer_status_form).post(services::transfer_status),
        )
        // Enrolment applications (issue 5): public application, lookup and added material; review,
        // enrolment into a class, material files; the county's school zone table.
        .route(
            "/public/enrolment",
            get(enrolment::apply_form)
                .post(enrolment::apply)
                .layer(DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route(
            "/public/enrolment/status",
            get(enrolment::status_form).post(enrolment::status),
        )
        .route("/public/enrolment/withdraw", post(enrolment::withdraw))
        .route(
            "/public/enrolment/resubmit",
            post(enrolment::resubmit).layer(DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route("/enrolment", get(enrolment::list))
        .route(
            "/enrolment/zones",
            get(enrolment::zones).post(enrolment::add_zone),
        )
        .route(
            "/enrolment/zones/import",
            post(enrolment::import_zones).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/enrolment/{county}/{id}", get(enrolment::show))
        .route("/enrolment/{county}/{id}/review", post(enrolment::review))
        .route("/enrolment/{county}/{id}/place", post(enrolment::place))
        .route("/enrolment/{county}/{id}/enrol", post(enrolment::enrol))
        .route("/enrolment/{county}/files/{id}", get(enrolment::file))
        .route("/admin/rollover", get(rollover::form).post(rollover::run))
        .route(
            "/schools/{id}/sunshine",
            get(sunshine::form).post(sunshine::run),
        )
        // Senior-high unified admission (issue 6): the city's rounds, uploads, validation, dry run,
        // publication; the public result lookup and cut-off lines; the admission API.
        // (`api_admission` = `crate::api::admission`.)
        .route(
            "/admission",
            get(admission::rounds).post(admission::create_round),
        )
        .route("/admission/{id}", get(admission::show_round))
        .route(
            "/admission/{id}/files/{kind}",
            post(admission::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/admission/{id}/files/{kind}/delete",
            post(admission::delete_file),
        )
        .route("/admission/{id}/validate", post(admission::validate))
        .route("/admission/{id}/run", post(admission::dry_run))
        .route("/admission/{id}/publish", post(admission::publish))
        .route("/admission/{id}/explain", get(admission::explain))
        .route("/admission/{id}/results", get(admission::results))
        .route(
            "/admission/{id}/admissions.csv",
            get(admission::admissions_csv),
        )
        .route("/admission/{id}/cutoffs.csv", get(admission::cutoffs_csv))
        .route(
            "/public/admission",
            get(admission::public_form).post(admission::public_lookup),
        )
        .route("/public/admission/cutoffs", get(admission::public_cutoffs))
        .route(
            "/api/v1/admission/rounds",
            get(api_admission::api_rounds).post(api_admission::api_create_round),
        )
        .route(
            "/api/v1/admission/rounds/{id}",
            get(api_admission::api_round),
        )
        .route(
            "/api/v1/admission/rounds/{id}/files/{kind}",
            post(api_admission::api_upload)
                .delete(api_admission::api_delete_file)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/api/v1/admission/rounds/{id}/validate",
            post(api_admission::api_validate),
        )
        .route(
            "/api/v1/admission/rounds/{id}/run",
            post(api_admission::api_dry_run),
        )
        .route(
            "/api/v1/admission/rounds/{id}/publish",
            post(api_admission::api_publish),
        )
        .route(
            "/api/v1/admission/rounds/{id}/explain",
            get(api_admission::api_explain),
        )
        .route(
            "/api/v1/admission/rounds/{id}/results",
            get(api_admission::api_result_list),
        )
        .route(
            "/api/v1/admission/rounds/{id}/admissions.csv",
            get(api_admission::api_results),
        )
        .route(
            "/api/v1/admission/rounds/{id}/cutoffs.csv",
            get(api_admission::api_cutoffs),
        )
        .route(
            "/api/v1/public/admission/cutoffs",
            get(api_admission::api_public_cutoffs),
        )
        .route("/static/{*path}", get(crate::assets::serve));
    Router::new()
        .merge(pages)
        .merge(crate::api::router(upload_limit))
        .fallback(session::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::require_password_changed,
        ))
        .layer(axum::middleware::from_fn(crate::error::humanize_rejections))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::upload_budget::guard,
        ))
        .layer(DefaultBodyLimit::max(2 * 1024 * 1024))
        .layer(CatchPanicLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                // The path only: query strings may carry names or ID numbers.
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(HeaderName::from_static("x-request-id")))
        .layer(SetRequestIdLayer::new(HeaderName::from_static("x-request-id"), MakeRequestUuid))
        .with_state(state)
}

/// Serves until `shutdown` completes, then drains open requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sweeper = tokio::spawn(sweep_uploads(state.clone()));
    let snapshots = tokio::spawn(monthly_snapshots(state.clone()));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let r = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    sweeper.abort();
    snapshots.abort();
    r
}

/// Takes the month's indicator snapshot when it is missing: at start and then every six hours,
/// so history and trends exist without anyone remembering to take them.
async fn monthly_snapshots(state: AppState) {
    loop {
        if let Err(e) = monthly_snapshot(&state).await {
            tracing::warn!(error = ?e, "monthly indicator snapshot failed");
        }
        tokio::time::sleep(Duration::from_secs(6 * 3600)).await;
    }
}

/// Takes the monthly indicator snapshots that are missing: this month's, and — when the tracker's
/// clock is set inside the plan's year — each earlier month's of that year. Run at start and
/// every six hours by [`serve`].
pub async fn monthly_snapshot(state: &AppState) -> Result<(), crate::error::Failure> {
    let Some(row) = yimeng_store::plan::current(&state.db).await? else {
        return Ok(());
    };
    let today = state.tracker_today();
    // A clock set inside the plan's year (a demo city): the months before it get their snapshot
    // too, each of the registry as it is and the reports approved up to that month, so that
    // history and trends have their points.
    if state.config.clock.is_some() {
        let (_, plan) = state.plan().await?;
        let mut month_end = crate::service::tracker::month_end(plan.start);
        while month_end < today.min(plan.end) {
            if !yimeng_store::snapshot::has_monthly(&state.db, &row.code, month_end).await? {
                let board = crate::service::tracker::compute_live(
                    &state.db,
                    &state.system,
                    &state.rules,
                    Arc::clone(&plan),
                    month_end,
                )
                .await?;
                let id = crate::service::tracker::take_snapshot(
                    &state.db,
                    &state.system.actor(),
                    &board,
                    month_end,
                    "monthly",
                )
                .await?;
                tracing::info!(snapshot = id, %month_end, "monthly indicator snapshot taken for a month before the clock");
            }
            let next = month_end.succ_opt().unwrap_or(month_end);
            month_end = crate::service::tracker::month_end(next);
        }
    }
    if yimeng_store::snapshot::has_monthly(&state.db, &row.code, today).await? {
        return Ok(());
    }
    let board = state.board(None).await?;
    let id = crate::service::tracker::take_snapshot(
        &state.db,
        &state.system.actor(),
        &board,
        today,
        "monthly",
    )
    .await?;
    tracing::info!(snapshot = id, "monthly indicator snapshot taken");
    Ok(())
}

/// Deletes uploads nobody confirmed within an hour.
async fn sweep_uploads(state: AppState) {
    loop {
        tokio::time::sleep(Duration::from_secs(300)).await;
        let expired: Vec<PendingImport> = {
            let mut map = state.imports.lock().expect("imports lock");
            let keys: Vec<String> = map
                .iter()
                .filter(|(_, p)| p.at.elapsed() > Duration::from_secs(3600))
                .map(|(k, _)| k.clone())
                .collect();
            keys.into_iter().filter_map(|k| map.remove(&k)).collect()
        };
        for p in expired {
            let _ = tokio::fs::remove_file(&p.path).await;
        }
    }
}
