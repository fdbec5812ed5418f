//! The browser console: the same web UI the desktop app embeds, served by the hub from a folder
//! (`console_dir`), for managers without the app. It talks to the API at the same origin, so no
//! CORS is needed, and signs in with an HttpOnly cookie, so no token ever reaches JavaScript.
//!
//! This module only serves files; it must not know the UI's routes or content.

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::path::{Component, Path, PathBuf};

/// What the console's pages may load: only themselves and the hub (WebSocket included); video
/// plays from the page's own Media Source (`blob:`), fed from the hub.
const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Serves `request_path` from `dir`: the file itself, or `index.html` for a path without a file
/// extension (the UI's own views). Anything that tries to leave `dir` is not found.
pub async fn serve(dir: &Path, method: &Method, request_path: &str) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let Some(relative) = clean(request_path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let wanted = dir.join(&relative);
    let path = if relative.extension().is_none() && !wanted.is_file() {
        dir.join("index.html")
    } else {
        wanted
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(media_type(&path)),
            );
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONSOLE_CSP),
            );
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            // Vite names assets by content hash; the page itself must always be fresh.
            let cache = if path.starts_with(dir.join("assets")) {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            response
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(path = %path.display(), %error, "console file unreadable");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The request path as a relative path inside the folder, or `None` if it tries to leave it.
fn clean(request_path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in Path::new(request_path.trim_start_matches('/')).components() {
        match part {
            Component::Normal(name) => out.push(name),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if out.as_os_str().is_empty() {
        out.push("index.html");
    }
    Some(out)
}

fn media_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "map" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_folder() {
        assert_eq!(clean("/"), Some(PathBuf::from("index.html")));
        assert_eq!(
            clean("/assets/index-1.js"),
            Some(PathBuf::from("assets/index-1.js"))
        );
        assert_eq!(clean("/a/./b.css"), Some(PathBuf::from("a/b.css")));
        assert_eq!(clean("/../etc/passwd"), None);
        assert_eq!(clean("/assets/../../x"), None);
    }

    #[tokio::test]
    async fn files_views_and_strangers() {
        let dir = std::env::temp_dir().join(format!("wf-console-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("assets")).expect("console test");
        std::fs::write(dir.join("index.html"), "<html>console</html>").expect("console test");
        std::fs::write(dir.join("assets/app.js"), "1").expect("console test");
        let get = |p: &'static str| {
            let dir = dir.clone();
            async move { serve(&dir, &Method::GET, p).await }
        };
        let page = get("/").await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(
            page.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .expect("console test")
                .contains("frame-ancestors 'none'")
        );
        let script = get("/assets/app.js").await;
        assert_eq!(
            script.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            get("/incidents").await.status(),
            StatusCode::OK,
            "a view falls back to the page"
        );
        assert_eq!(
            get("/assets/missing.js").await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(get("/../secret").await.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            serve(&dir, &Method::POST, "/").await.status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
        std::fs::remove_dir_all(&dir).expect("console test");
    }
}
