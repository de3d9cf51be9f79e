//! A file sent as a download: its type and a `Content-Disposition` that keeps a Chinese name
//! (RFC 5987) with an ASCII fallback.

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A download of `bytes` named `name` with the content type `mime`.
pub fn attachment(bytes: Vec<u8>, name: &str, mime: &str) -> Response {
    let encoded = super::urlencoding(name);
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        Body::from(bytes),
    )
        .into_response()
}
