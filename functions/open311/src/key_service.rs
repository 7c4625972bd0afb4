//! The page discovery's `key_service` points at: how a client application
//! gets the `api_key` it needs to post requests and updates.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use citydesk_core::language::Language;
use quick_xml::escape::escape;

use crate::Deps;
use crate::routes::language;

/// `GET /open311/v2/keys`.
pub(crate) const KEY_SERVICE_PAGE: &str = "keys";

pub(crate) fn key_service_page(deps: &Deps, headers: &HeaderMap) -> Response {
    let lang = language(headers);
    let catalogue = deps.catalogues.default_catalogue();
    let city = match lang {
        Language::Pl => &catalogue.city().name.pl,
        Language::En => &catalogue.city().name.en,
    };
    let city = escape(city.as_str());
    let zone = escape(catalogue.city().timezone.as_str());
    let base = escape(deps.public_base_url.as_str());
    let (html_lang, title, body) = match lang {
        Language::Pl => (
            "pl",
            format!("Klucz API Open311: {city}"),
            format!(
                "<p>Odczyt usług i zgłoszeń (<code>GET {base}/open311/v2/services.json</code>, <code>requests.json</code>) nie wymaga klucza.</p>\
                 <p>Wysyłanie zgłoszeń i aktualizacji (<code>POST requests.json</code>) wymaga klucza <code>api_key</code>, podanego w treści żądania POST, nigdy w adresie URL. Aplikacja może aktualizować tylko zgłoszenia, które sama wysłała.</p>\
                 <h2>Jak otrzymać klucz</h2>\
                 <ol><li>Napisz do zespołu 311 miasta ({city}, {base}): nazwa aplikacji, kto za nią odpowiada, adres kontaktowy i do czego posłuży.</li>\
                 <li>Zespół wydaje klucz poleceniem <code>citydesk api-key create --client \"nazwa aplikacji\"</code>. Klucz jest pokazywany raz; miasto przechowuje tylko jego skrót.</li>\
                 <li>Klucz nadużyty lub ujawniony zostaje unieważniony od razu (<code>citydesk api-key revoke</code>); poproś wtedy o nowy.</li></ol>\
                 <p>Daty bez strefy czasowej (np. <code>start_date=2026-11-30T00:00:00</code>) są czytane w strefie miasta: {zone}.</p>"
            ),
        ),
        Language::En => (
            "en",
            format!("Open311 API key: {city}"),
            format!(
                "<p>Reading services and requests (<code>GET {base}/open311/v2/services.json</code>, <code>requests.json</code>) needs no key.</p>\
                 <p>Posting requests and updates (<code>POST requests.json</code>) needs an <code>api_key</code>, sent in the POST body, never in the URL. An application may update only the requests it filed.</p>\
                 <h2>How to get a key</h2>\
                 <ol><li>Write to the city's 311 team ({city}, {base}): your application's name, who runs it, a contact address and what it will post.</li>\
                 <li>The team issues a key with <code>citydesk api-key create --client \"application name\"</code>. It is shown once; the city keeps only its hash.</li>\
                 <li>A key that is misused or leaked is revoked at once (<code>citydesk api-key revoke</code>); ask for a new one.</li></ol>\
                 <p>Date-times without an offset (e.g. <code>start_date=2026-11-30T00:00:00</code>) are read in the city's time zone: {zone}.</p>"
            ),
        ),
    };
    let page = format!(
        "<!doctype html><html lang=\"{html_lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>"
    );
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::VARY, "Accept-Language"),
        ],
        page,
    )
        .into_response()
}
