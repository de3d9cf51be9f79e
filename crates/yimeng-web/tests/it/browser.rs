//! In a real browser (headless Chromium through chromedriver): a county user logs in, opens a
//! school, a class and a student by clicking, exports a class roster, and imports a file with an
//! error. Ignored by default (it needs Debian's `chromium` and `chromium-driver`); `scripts/test`
//! runs it with `--include-ignored`.

use crate::support::{PW, TestApp};
use fantoccini::{ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use yimeng_testkit::TestDb;

pub(crate) struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// True when chromedriver is installed (or YIMENG_REQUIRE_BROWSER makes its absence a failure);
/// otherwise says the browser test is skipped.
pub(crate) fn browser_present() -> bool {
    let present = Command::new("chromedriver")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !present && std::env::var_os("YIMENG_REQUIRE_BROWSER").is_none() {
        eprintln!(
            "skipped: chromedriver is not installed (Debian packages chromium and chromium-driver)"
        );
    }
    present || std::env::var_os("YIMENG_REQUIRE_BROWSER").is_some()
}

/// A test app, chromedriver, a download folder and a browser session on them; `None` (the test
/// is skipped) when chromedriver is not installed.
async fn open_browser() -> Option<(TestApp, Driver, tempfile::TempDir, fantoccini::Client)> {
    if !browser_present() {
        return None;
    }
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let driver = start_driver().await;
    let downloads = tempfile::tempdir().unwrap();
    let c = browser(&driver, downloads.path()).await;
    Some((app, driver, downloads, c))
}

pub(crate) async fn start_driver() -> Driver {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (Debian package chromium-driver) must be installed");
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver { child, port }
}

pub(crate) async fn browser(driver: &Driver, downloads: &std::path::Path) -> fantoccini::Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1366,900", "--lang=zh-CN"],
            "prefs": {"download.default_directory": downloads.to_str().unwrap(), "download.prompt_for_download": false}
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a chromedriver session")
}

async fn h1(c: &fantoccini::Client) -> String {
    c.find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

pub(crate) async fn wait_path(c: &fantoccini::Client, path: &str) {
    let started = Instant::now();
    while c.current_url().await.unwrap().path() != path {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never reached {path}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.wait().for_element(Locator::Css("h1")).await.unwrap();
}

async fn wait_for_file(dir: &std::path::Path, ext: &str) -> std::path::PathBuf {
    let started = Instant::now();
    loop {
        if let Some(p) = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|e| e == ext))
        {
            return p;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no .{ext} file downloaded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; scripts/test runs it"]
async fn a_county_user_works_through_the_browser() {
    let Some((app, driver, downloads, c)) = open_browser().await else {
        return;
    };
    let result = async {
        // A visitor lands on the public home page; staff log in from there.
        c.goto(&format!("{}/", app.base)).await.unwrap();
        assert_eq!(c.current_url().await.unwrap().path(), "/");
        assert!(c.source().await.unwrap().contains("/public/enrolment"));
        c.find(Locator::Css(".staff-entry a[href='/login']")).await.unwrap().click().await.unwrap();
        wait_path(&c, "/login").await;
        c.find(Locator::Css("input[name=username]")).await.unwrap().send_keys("lanshan").await.unwrap();
        c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PW).await.unwrap();
        c.find(Locator::Css("form[action='/login'] button[type=submit]")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Css("nav")).await.unwrap();
        assert_eq!(c.current_url().await.unwrap().path(), "/");
        assert!(c.source().await.unwrap().contains("兰山区"));

        // The school list, then a school by clicking its name.
        c.goto(&format!("{}/schools", app.base)).await.unwrap();
        let link = format!("a[href='/schools/{}']", app.ids.own_school);
        c.find(Locator::Css(&link)).await.unwrap().click().await.unwrap();
        wait_path(&c, &format!("/schools/{}", app.ids.own_school)).await;
        let school = h1(&c).await;
        assert!(school.contains("2137"), "the school page names its code: {school}");

        // A class of the school, then a student of the class.
        let link = format!("a[href='/classes/{}']", app.ids.own_class);
        c.find(Locator::Css(&link)).await.unwrap().click().await.unwrap();
        wait_path(&c, &format!("/classes/{}", app.ids.own_class)).await;
        assert!(h1(&c).await.contains("班"));
        c.find(Locator::Css("table a[href^='/students/']")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Css("dl")).await.unwrap();
        assert!(c.current_url().await.unwrap().path().starts_with("/students/"));
        assert!(c.source().await.unwrap().contains("学籍"));

        // Export the class roster as CSV.
        c.back().await.unwrap();
        c.wait().for_element(Locator::Css("a[href$='format=csv']")).await.unwrap().click().await.unwrap();
        let file = wait_for_file(downloads.path(), "csv").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let text = String::from_utf8(std::fs::read(&file).unwrap()).unwrap();
        assert!(text.trim_start_matches('\u{feff}').starts_with("县区,学校,班级,姓名"), "{text}");
        assert!(text.lines().count() > 2);

        // Import a file with a bad ID number: the check shows the row and the reason.
        let upload = downloads.path().join("学生导入.csv");
        let header = yimeng_io::Table::Students.columns().iter().map(|c| c.header).collect::<Vec<_>>().join(",");
        std::fs::write(&upload, format!("{header}\n2137999999,2020-2021,三年级,1,张三,男,2012-05-05,371302201205050010,,汉族,,,\n")).unwrap();
        c.goto(&format!("{}/import", app.base)).await.unwrap();
        c.find(Locator::Css("input[type=file]")).await.unwrap().send_keys(upload.to_str().unwrap()).await.unwrap();
        c.find(Locator::Css("form[action='/import'] button[type=submit]")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::XPath("//h1[contains(., '校验结果')]")).await.unwrap();
        let page = c.source().await.unwrap();
        assert!(page.contains("身份证件号") && page.contains("校验位"), "the error row is shown");
        assert!(page.contains("errors.xlsx"), "the error sheet is offered");
    }
    .await;
    c.close().await.unwrap();
    drop(driver);
    app.stop().await;
    result
}

/// At a phone's width (390 px) the header fits, the menu opens from its button, and the main
/// pages of a county account do not scroll sideways (wide tables scroll inside their frame).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; scripts/test runs it"]
async fn a_phone_opens_the_menu_and_the_pages_fit_390_px() {
    let Some((app, driver, _downloads, c)) = open_browser().await else {
        return;
    };
    let result = async {
        c.set_window_size(390, 844).await.unwrap();
        let inner = c.execute("return window.innerWidth", vec![]).await.unwrap();
        assert!(
            inner.as_i64().is_some_and(|w| w <= 400),
            "a phone-sized window: {inner}"
        );
        let overflow =
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth";
        // The public home page fits.
        c.goto(&format!("{}/", app.base)).await.unwrap();
        c.wait().for_element(Locator::Css(".tiles")).await.unwrap();
        let extra = c.execute(overflow, vec![]).await.unwrap();
        assert_eq!(extra.as_i64(), Some(0), "the public home scrolls sideways");
        // Log in.
        c.goto(&format!("{}/login", app.base)).await.unwrap();
        c.find(Locator::Css("input[name=username]"))
            .await
            .unwrap()
            .send_keys("lanshan")
            .await
            .unwrap();
        c.find(Locator::Css("input[name=password]"))
            .await
            .unwrap()
            .send_keys(PW)
            .await
            .unwrap();
        c.find(Locator::Css("form[action='/login'] button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.wait()
            .for_element(Locator::Css(".menu-btn"))
            .await
            .unwrap();
        // The menu is closed, its button shows; a tap opens it, and a link in it leads on.
        let nav = c.find(Locator::Css("nav.side")).await.unwrap();
        assert!(!nav.is_displayed().await.unwrap(), "the menu starts closed");
        let button = c.find(Locator::Css(".menu-btn")).await.unwrap();
        assert!(
            button.is_displayed().await.unwrap(),
            "the menu button shows"
        );
        button.click().await.unwrap();
        assert!(
            nav.is_displayed().await.unwrap(),
            "the button opens the menu"
        );
        c.find(Locator::Css("nav.side a[href='/schools']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_path(&c, "/schools").await;
        // The main pages do not scroll sideways.
        for path in [
            "/",
            "/schools",
            "/students",
            "/classes",
            "/plan",
            "/indicators",
            "/transfers",
        ] {
            c.goto(&format!("{}{path}", app.base)).await.unwrap();
            c.wait().for_element(Locator::Css("h1")).await.unwrap();
            let extra = c.execute(overflow, vec![]).await.unwrap();
            assert_eq!(extra.as_i64(), Some(0), "{path} scrolls sideways at 390 px");
        }
    }
    .await;
    c.close().await.unwrap();
    drop(driver);
    app.stop().await;
    result
}
