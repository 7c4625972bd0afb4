//! Static assets, built into the binary (no step needs the internet at deploy
//! time): the pages' stylesheet and scripts, and Leaflet from npm (vendored
//! under `assets/vendor/`, checked against the npm package by the browser
//! tests). Each is served at a name carrying a hash of its content, so it is
//! cached for a year and a new build is fetched at once; compressed once per
//! cold start for clients that take gzip.

use std::collections::HashMap;
use std::io::Write;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// `(name, content type, content)`.
const FILES: [(&str, &str, &[u8]); 9] = [
    (
        "site.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/site.css"),
    ),
    (
        "steps.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/steps.js"),
    ),
    (
        "desk.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/desk.js"),
    ),
    (
        "nearby.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/nearby.js"),
    ),
    (
        "map.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/map.js"),
    ),
    (
        "place.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/place.js"),
    ),
    (
        "photos.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/photos.js"),
    ),
    (
        "leaflet.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/leaflet/leaflet.js"),
    ),
    (
        "leaflet.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/vendor/leaflet/leaflet.css"),
    ),
];

/// Where assets are served.
pub const PREFIX: &str = "/assets/";

#[derive(Debug)]
struct Asset {
    content_type: &'static str,
    plain: &'static [u8],
    gzip: Vec<u8>,
}

/// The assets by their fingerprinted file name, and each name's URL.
#[derive(Debug, Default)]
pub struct Assets {
    by_file: HashMap<String, Asset>,
    urls: HashMap<&'static str, String>,
}

impl Assets {
    pub fn build() -> std::io::Result<Self> {
        let mut assets = Assets::default();
        for (name, content_type, plain) in FILES {
            let hash = hex::encode(&Sha256::digest(plain)[..5]);
            let file = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{name}.{hash}"),
            };
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            encoder.write_all(plain)?;
            let gzip = encoder.finish()?;
            assets.urls.insert(name, format!("{PREFIX}{file}"));
            assets.by_file.insert(
                file,
                Asset {
                    content_type,
                    plain,
                    gzip,
                },
            );
        }
        Ok(assets)
    }

    /// The URL of an asset by its plain name (`site.css`).
    pub fn url(&self, name: &str) -> Option<&str> {
        self.urls.get(name).map(String::as_str)
    }
}

/// Whether the client takes gzip (`Accept-Encoding`, without `q=0`).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|entry| {
            let mut parts = entry.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

/// `GET /assets/{file}`: immutable for a year; gzip when asked for.
pub async fn serve(
    State(assets): State<std::sync::Arc<Assets>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(asset) = assets.by_file.get(&file) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let gzip = accepts_gzip(&headers);
    let body = if gzip {
        Body::from(asset.gzip.clone())
    } else {
        Body::from(asset.plain)
    };
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_hash_and_compress() {
        let assets = Assets::build().unwrap();
        let url = assets.url("leaflet.js").unwrap();
        assert!(
            url.starts_with("/assets/leaflet.") && url.ends_with(".js"),
            "{url}"
        );
        let file = url.trim_start_matches(PREFIX);
        let asset = &assets.by_file[file];
        assert!(asset.gzip.len() * 2 < asset.plain.len());
        assert!(assets.url("nothing.js").is_none());
    }

    #[test]
    fn gzip_only_when_accepted() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br"),
        );
        assert!(accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, gzip;q=0"),
        );
        assert!(!accepts_gzip(&h));
    }
}
