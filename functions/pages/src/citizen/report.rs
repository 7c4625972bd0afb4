//! Reporting a problem in three steps, each a form post that works without
//! JavaScript: *what* (the words, and a service from the catalogue's groups
//! or "let the city choose"), *where* (an address or a point; a point outside
//! the city is explained), *details* (the service's questions, photos, and
//! the contact with the resident's choice of what the city may do with it).
//! What earlier steps said travels in hidden fields; the last step files the
//! request through the same submission as the API, idempotent on the
//! visitor and what the report says.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use citydesk_core::ids::ServiceCode;
use citydesk_core::location::GeoPoint;
use citydesk_core::media::{MAX_MEDIA_PER_REQUEST, MediaRef, sniff_image, without_location};
use citydesk_core::ports::IdempotencyClaim;
use citydesk_core::request::Channel;
use citydesk_core::usecases::citizen_portal::{
    PlaceCheck, Question, QuestionInput, ServiceGroup, check_place, open_nearby, questions_of,
    service_groups,
};
use citydesk_core::usecases::submit_request::{Intake, MAX_DESCRIPTION_CHARS, submit_request};
use citydesk_http_api::citizen_request::{
    AnswerBody, ContactBody, CreateRequestBody, submit_error,
};
use serde::Serialize;

use super::{AnswerLink, Visit, answers_for};
use crate::Deps;
use crate::forms::PostedForm;

/// What the resident has said so far.
#[derive(Debug, Clone, Default, Serialize)]
struct Draft {
    description: String,
    service_code: String,
    address: String,
    lat: String,
    long: String,
    /// `updates`: tell me about this report; `none`: do not contact me.
    contact_use: String,
    name: String,
    phone: String,
    email: String,
    private: bool,
    answers: BTreeMap<String, Vec<String>>,
    /// The open report nearby the resident said "me too" to.
    follows: String,
}

impl Draft {
    fn from_form(form: &PostedForm) -> Self {
        let text = |name: &str| form.text(name).unwrap_or("").to_owned();
        Draft {
            description: text("description"),
            service_code: text("service_code"),
            address: text("address"),
            lat: text("lat"),
            long: text("long"),
            contact_use: form.text("contact_use").unwrap_or("none").to_owned(),
            name: text("name"),
            phone: text("phone"),
            email: text("email"),
            private: form.text("private").is_some(),
            answers: form.with_prefix("attr."),
            // A "me too" button pressed now (`none`: not after all), else
            // the choice carried from the page shown again after an error.
            follows: match form.text("follows") {
                Some("none") => String::new(),
                Some(pressed) => pressed.to_owned(),
                None => text("followed"),
            },
        }
    }

    fn point(&self) -> Result<Option<GeoPoint>, ()> {
        parse_point(&self.lat, &self.long)
    }
}

/// A point typed or placed as two decimal fields (a comma taken for the
/// decimal point); both empty is no point.
pub(crate) fn parse_point(lat: &str, long: &str) -> Result<Option<GeoPoint>, ()> {
    match (lat.trim(), long.trim()) {
        ("", "") => Ok(None),
        (lat, long) => {
            let lat: f64 = lat.replace(',', ".").parse().map_err(|_| ())?;
            let long: f64 = long.replace(',', ".").parse().map_err(|_| ())?;
            ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&long))
                .then_some(Some(GeoPoint { lat, long }))
                .ok_or(())
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Step {
    What,
    Where,
    Details,
}

#[derive(Serialize)]
struct ReportPage<'a> {
    step: Step,
    /// 1, 2 or 3, for "step 2 of 3".
    number: u8,
    draft: &'a Draft,
    csrf: &'a str,
    errors: BTreeMap<&'static str, String>,
    groups: Vec<GroupView>,
    service_name: Option<String>,
    questions: Vec<QuestionView>,
    answers: Vec<AnswerLink>,
    max_photos: usize,
    retention_days: u32,
    city_centre: [f64; 2],
    /// Open reports of the same service near the place ("me too").
    nearby: Vec<NearbyView>,
    /// The resident's point, for the map of those reports.
    here: Option<[f64; 2]>,
}

#[derive(Serialize)]
struct NearbyView {
    case_number: String,
    status: String,
    description: String,
    address: Option<String>,
    distance_m: u32,
    since: String,
    followers: u64,
    lat: f64,
    long: f64,
}

/// Open reports the resident may follow instead (none when the service or
/// the point is not known yet, or the list cannot be read: it is a help).
async fn nearby_of(deps: &Deps, visit: &Visit, draft: &Draft) -> Vec<NearbyView> {
    let (Ok(service), Ok(Some(point))) = (ServiceCode::parse(&draft.service_code), draft.point())
    else {
        return Vec::new();
    };
    match open_nearby(
        deps.queries.as_ref(),
        &deps.catalogue,
        &service,
        point,
        deps.clock.now(),
    )
    .await
    {
        Ok(found) => found
            .into_iter()
            .map(|r| NearbyView {
                case_number: r.case_number.to_string(),
                status: super::track::status_text(deps, visit, r.status),
                description: r.description,
                address: r.address,
                distance_m: r.distance_m.round() as u32,
                since: deps.renderer.local_time(r.created_at),
                followers: r.followers,
                lat: r.point.lat,
                long: r.point.long,
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "open reports nearby could not be read");
            Vec::new()
        }
    }
}

#[derive(Serialize)]
pub(crate) struct GroupView {
    label: String,
    services: Vec<(String, String)>,
}

/// The catalogue's services by group, for a service list.
pub(crate) fn service_list(deps: &Deps, visit: &Visit) -> Vec<GroupView> {
    service_groups(&deps.catalogue, visit.locale.data_language())
        .iter()
        .map(|g| GroupView {
            label: group_label(deps, visit, g),
            services: g
                .services
                .iter()
                .map(|s| (s.code.clone(), s.name.clone()))
                .collect(),
        })
        .collect()
}

#[derive(Serialize)]
struct QuestionView {
    field: String,
    label: String,
    hint: Option<String>,
    input: &'static str,
    required: bool,
    options: Vec<(String, String)>,
    /// What the resident answered before (going back and forth).
    values: Vec<String>,
}

fn question_view(q: Question, draft: &Draft) -> QuestionView {
    QuestionView {
        values: draft.answers.get(&q.code).cloned().unwrap_or_default(),
        field: format!("attr.{}", q.code),
        label: q.label,
        hint: q.hint,
        input: match q.input {
            QuestionInput::Line => "line",
            QuestionInput::Paragraph => "paragraph",
            QuestionInput::Number => "number",
            QuestionInput::DateTime => "datetime",
            QuestionInput::OneOf => "one_of",
            QuestionInput::AnyOf => "any_of",
            QuestionInput::Information => "information",
        },
        required: q.required,
        options: q.options,
    }
}

fn group_label(deps: &Deps, visit: &Visit, group: &ServiceGroup) -> String {
    let key = format!("group_{}", group.code);
    if let Some(label) = deps.renderer.texts().of(visit.locale).get(&key) {
        return label.clone();
    }
    citydesk_core::ids::DepartmentCode::parse(&group.code)
        .ok()
        .and_then(|code| deps.catalogue.department(&code).cloned())
        .map_or_else(
            || group.code.clone(),
            |d| d.name.get(visit.locale.data_language()).to_owned(),
        )
}

async fn render(
    deps: &Deps,
    visit: &Visit,
    step: Step,
    draft: &Draft,
    errors: BTreeMap<&'static str, String>,
) -> Response {
    let language = visit.locale.data_language();
    let service = ServiceCode::parse(&draft.service_code)
        .ok()
        .and_then(|c| deps.catalogue.service(&c));
    let city = deps.catalogue.city();
    let page = ReportPage {
        step,
        number: match step {
            Step::What => 1,
            Step::Where => 2,
            Step::Details => 3,
        },
        draft,
        csrf: &visit.csrf,
        groups: service_list(deps, visit),
        service_name: service.map(|s| s.name.get(language).to_owned()),
        questions: service
            .map(|s| {
                questions_of(s, language)
                    .into_iter()
                    .map(|q| question_view(q, draft))
                    .collect()
            })
            .unwrap_or_default(),
        answers: if step == Step::Where {
            answers_for(deps, &draft.description, visit.locale, 3)
        } else {
            Vec::new()
        },
        max_photos: MAX_MEDIA_PER_REQUEST,
        retention_days: city
            .contact_retention_days
            .unwrap_or(citydesk_core::catalogue::DEFAULT_CONTACT_RETENTION_DAYS),
        city_centre: [city.centre.lat, city.centre.long],
        nearby: if step == Step::Details {
            nearby_of(deps, visit, draft).await
        } else {
            Vec::new()
        },
        here: draft.point().ok().flatten().map(|p| [p.lat, p.long]),
        errors,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    visit.render(deps, status, "citizen/report.html", "/report", page)
}

/// `GET /report`: the first step (a service may be chosen already, `?service=`).
pub(super) async fn start(
    State(deps): State<Arc<Deps>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let visit = Visit::new(&deps, query.as_deref(), &headers);
    let draft = Draft {
        service_code: visit.param("service").unwrap_or("").to_owned(),
        description: visit.param("description").unwrap_or("").to_owned(),
        ..Draft::default()
    };
    render(&deps, &visit, Step::What, &draft, BTreeMap::new()).await
}

/// `POST /report`: the next (or previous) step, or the filed request.
pub(super) async fn step(
    State(deps): State<Arc<Deps>>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let visit = Visit::new(&deps, query.as_deref(), &headers);
    let form = match PostedForm::read(request).await {
        Ok(form) => form,
        Err(e) => {
            return visit.error(
                &deps,
                StatusCode::PAYLOAD_TOO_LARGE,
                visit.text(&deps, "form_unreadable"),
                &e.to_string(),
            );
        }
    };
    if let Some(refused) = visit.forged(&deps, &headers, &form) {
        return refused;
    }
    let draft = Draft::from_form(&form);
    let back = form.text("back").is_some();
    match (form.text("step").unwrap_or("what"), back) {
        ("where", true) => render(&deps, &visit, Step::What, &draft, BTreeMap::new()).await,
        ("details", true) => render(&deps, &visit, Step::Where, &draft, BTreeMap::new()).await,
        ("where", false) => match check_where(&deps, &visit, &draft) {
            Ok(draft) => render(&deps, &visit, Step::Details, &draft, BTreeMap::new()).await,
            Err(errors) => render(&deps, &visit, Step::Where, &draft, errors).await,
        },
        ("details", false) => file(&deps, &visit, &form, draft).await,
        _ => {
            let errors = check_what(&deps, &visit, &draft);
            let next = if errors.is_empty() {
                Step::Where
            } else {
                Step::What
            };
            render(&deps, &visit, next, &draft, errors).await
        }
    }
}

fn check_what(deps: &Deps, visit: &Visit, draft: &Draft) -> BTreeMap<&'static str, String> {
    let mut errors = BTreeMap::new();
    if draft.description.is_empty() {
        errors.insert(
            "description",
            visit.text(deps, "error_description_missing").to_owned(),
        );
    } else if draft.description.chars().count() > MAX_DESCRIPTION_CHARS {
        errors.insert(
            "description",
            visit
                .text(deps, "error_description_long")
                .replace("{max}", &MAX_DESCRIPTION_CHARS.to_string()),
        );
    }
    if !draft.service_code.is_empty()
        && ServiceCode::parse(&draft.service_code)
            .ok()
            .and_then(|c| deps.catalogue.service(&c))
            .is_none()
    {
        errors.insert(
            "service_code",
            visit.text(deps, "error_service_unknown").to_owned(),
        );
    }
    errors
}

/// A place the city can take: a point inside it, or an address (found in the
/// city's list it gains its point; one it does not know is kept for the
/// department to find). Errors are keyed by the field to correct.
pub(crate) fn check_place_fields(
    deps: &Deps,
    visit: &Visit,
    address: &str,
    lat: &str,
    long: &str,
) -> Result<Option<GeoPoint>, BTreeMap<&'static str, String>> {
    let refuse = |field: &'static str, message: String| Err(BTreeMap::from([(field, message)]));
    let Ok(point) = parse_point(lat, long) else {
        return refuse("lat", visit.text(deps, "error_point_invalid").to_owned());
    };
    let point = point.or_else(|| {
        deps.catalogue
            .addresses()
            .geocode(address)
            .map(|a| a.point())
    });
    match point {
        Some(p) => match check_place(&deps.catalogue, p, visit.locale.data_language()) {
            PlaceCheck::Outside { city } => refuse(
                "lat",
                visit
                    .text(deps, "error_outside_city")
                    .replace("{city}", &city),
            ),
            _ => Ok(Some(p)),
        },
        None if address.trim().is_empty() => refuse(
            "address",
            visit.text(deps, "error_place_missing").to_owned(),
        ),
        None => Ok(None),
    }
}

fn check_where(
    deps: &Deps,
    visit: &Visit,
    draft: &Draft,
) -> Result<Draft, BTreeMap<&'static str, String>> {
    let mut draft = draft.clone();
    if let Some(p) = check_place_fields(deps, visit, &draft.address, &draft.lat, &draft.long)? {
        draft.lat = format!("{:.6}", p.lat);
        draft.long = format!("{:.6}", p.long);
    }
    Ok(draft)
}

/// Why the photos were not kept.
enum PhotoProblem {
    /// What the resident should change.
    Refused(String),
    Unavailable(citydesk_core::ports::PortError),
}

/// Stores the photos without their location metadata.
async fn store_photos(
    deps: &Deps,
    visit: &Visit,
    form: &PostedForm,
) -> Result<Vec<MediaRef>, PhotoProblem> {
    let photos: Vec<_> = form.files.iter().filter(|f| f.field == "photo").collect();
    if photos.len() > MAX_MEDIA_PER_REQUEST {
        return Err(PhotoProblem::Refused(
            visit
                .text(deps, "error_too_many_photos")
                .replace("{max}", &MAX_MEDIA_PER_REQUEST.to_string()),
        ));
    }
    let mut refs = Vec::new();
    for photo in photos {
        let Some(kind) = sniff_image(&photo.bytes) else {
            return Err(PhotoProblem::Refused(
                visit.text(deps, "error_not_a_photo").to_owned(),
            ));
        };
        let stripped = without_location(&photo.bytes, kind).map_err(|e| {
            PhotoProblem::Refused(format!("{} ({e})", visit.text(deps, "error_not_a_photo")))
        })?;
        let key = format!(
            "media/{}/{}.{}",
            deps.catalogue.city().jurisdiction_id,
            deps.ids.request_id().as_str().to_ascii_lowercase(),
            kind.extension
        );
        let bytes = stripped.len() as u64;
        deps.media
            .put_media(&key, kind.mime, stripped)
            .await
            .map_err(PhotoProblem::Unavailable)?;
        refs.push(MediaRef::Stored {
            key,
            content_type: kind.mime.to_owned(),
            bytes,
        });
    }
    Ok(refs)
}

/// The last step: the request is filed, and the resident sees its tracking page.
async fn file(deps: &Deps, visit: &Visit, form: &PostedForm, draft: Draft) -> Response {
    let details_error = |field: &'static str, message: String| {
        render(
            deps,
            visit,
            Step::Details,
            &draft,
            BTreeMap::from([(field, message)]),
        )
    };
    if let Some(errors) = Some(check_what(deps, visit, &draft)).filter(|e| !e.is_empty()) {
        return render(deps, visit, Step::What, &draft, errors).await;
    }
    let draft = match check_where(deps, visit, &draft) {
        Ok(d) => d,
        Err(errors) => return render(deps, visit, Step::Where, &draft, errors).await,
    };
    let wants_updates = draft.contact_use == "updates";
    if wants_updates && draft.phone.is_empty() && draft.email.is_empty() {
        return details_error(
            "phone",
            visit.text(deps, "error_contact_missing").to_owned(),
        )
        .await;
    }
    let media = match store_photos(deps, visit, form).await {
        Ok(m) => m,
        Err(PhotoProblem::Refused(message)) => return details_error("photo", message).await,
        Err(PhotoProblem::Unavailable(e)) => return visit.unavailable(deps, &e),
    };
    let body = CreateRequestBody {
        service_code: Some(draft.service_code.clone()).filter(|s| !s.is_empty()),
        description: draft.description.clone(),
        lat: draft.point().ok().flatten().map(|p| p.lat),
        long: draft.point().ok().flatten().map(|p| p.long),
        address: Some(draft.address.clone()).filter(|a| !a.is_empty()),
        contact: wants_updates.then(|| ContactBody {
            name: Some(draft.name.clone()),
            phone: Some(draft.phone.clone()),
            email: Some(draft.email.clone()),
        }),
        language: Some(visit.locale.data_language().as_str().to_owned()),
        attributes: draft
            .answers
            .iter()
            .map(|(code, values)| {
                let answer = if values.len() == 1 {
                    AnswerBody::One(values[0].clone())
                } else {
                    AnswerBody::Many(values.clone())
                };
                (code.clone(), answer)
            })
            .collect(),
        media: Vec::new(),
        private: draft.private,
    };
    // The same report sent twice from one browser (a double click, a reload,
    // back and send again) files one request: the key is the visitor's
    // anti-forgery token with what the report says.
    let said = serde_json::to_string(&draft).unwrap_or_default();
    let claim = Some(IdempotencyClaim {
        key: format!(
            "web#page-{}",
            &citydesk_core::ids::sha256_hex(format!("{}\n{said}", visit.csrf).as_bytes())[..32]
        ),
        payload_hash: citydesk_core::ids::sha256_hex(said.as_bytes()),
    });
    let mut submission = match body.into_submission(Channel::Web, claim) {
        Ok(s) => s,
        Err(e) => return details_error(field_of(e.field.as_deref()), e.message).await,
    };
    submission.media = media;
    // "Me too": the resident follows an open report nearby instead.
    submission.follows = citydesk_core::ids::CaseNumber::parse(&draft.follows).ok();
    let intake = Intake {
        store: deps.store.as_ref(),
        clock: deps.clock.as_ref(),
        ids: deps.ids.as_ref(),
        catalogue: &deps.catalogue,
    };
    match submit_request(&intake, submission).await {
        Ok(submitted) => {
            let location = format!(
                "/track/{}?token={}&new=1&lang={}",
                submitted.request.case_number,
                submitted.tracking_token.expose(),
                visit.locale.code()
            );
            let mut response = (StatusCode::SEE_OTHER, ()).into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            for cookie in &visit.set_cookies {
                if let Ok(v) = HeaderValue::from_str(cookie) {
                    response.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            response
        }
        Err(e) => {
            let api = submit_error(e);
            if api.status.is_server_error() {
                return visit.unavailable(deps, &api.message);
            }
            details_error(field_of(api.field.as_deref()), api.message).await
        }
    }
}

/// The form field an API error names.
fn field_of(field: Option<&str>) -> &'static str {
    match field.unwrap_or("") {
        "description" => "description",
        "contact.phone" => "phone",
        "contact.email" => "email",
        "contact.name" => "name",
        "lat" | "long" => "lat",
        "address" => "address",
        "media" => "photo",
        f if f.starts_with("attributes") => "attributes",
        _ => "form",
    }
}

#[derive(Serialize)]
struct Suggestion {
    label: String,
    lat: f64,
    long: f64,
}

/// `GET /report/places?q=`: addresses of the city's list for what is typed (JSON).
pub(super) async fn places(State(deps): State<Arc<Deps>>, RawQuery(query): RawQuery) -> Response {
    let typed: String = query
        .as_deref()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.chars().take(100).collect())
        .unwrap_or_default();
    let found: Vec<Suggestion> = deps
        .catalogue
        .addresses()
        .suggest(&typed, 8)
        .into_iter()
        .map(|a| Suggestion {
            label: a.label(),
            lat: a.lat,
            long: a.long,
        })
        .collect();
    let mut response = axum::Json(found).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
