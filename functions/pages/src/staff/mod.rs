//! The staff pages under `/staff/`: sign-in (`signin`), and the department
//! portal: the work list (`work`), one case and its actions (`case`), the experts'
//! questions from the contact centre (`questions`); and the contact
//! centre's operator console (`desk`) and triage list (`triage`). Who may see and
//! do what is the core's one access policy (`staff_access`), as in the
//! department API; a page never decides it.

mod case;
mod desk;
mod questions;
mod signin;
mod triage;
mod work;

pub use signin::SignInEndpoints;

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use citydesk_core::ids::DepartmentCode;
use citydesk_core::staff::Role;
use citydesk_core::usecases::staff_access::Caller;
use serde::Serialize;

use crate::Deps;
use crate::citizen::Visit;
use crate::cookies::read;

pub fn router(deps: Arc<Deps>) -> Router {
    Router::new()
        .route("/staff/", get(start))
        .route("/staff/login", get(signin::login))
        .route("/staff/callback", get(signin::callback))
        .route("/staff/logout", post(signin::logout))
        .route("/staff/work", get(work::list).post(work::acknowledge_many))
        .route(
            "/staff/work/{case_number}",
            get(case::case).post(case::change),
        )
        .route("/staff/questions", get(questions::list))
        .route(
            "/staff/questions/{id}",
            get(questions::show).post(questions::answer),
        )
        .route("/staff/desk", get(desk::show).post(desk::act))
        .route("/staff/triage", get(triage::list))
        .route("/staff/triage/{case_number}", post(triage::choose))
        .with_state(deps)
}

/// The staff sections a role works in, in the order the menu shows them.
pub(crate) fn sections(
    roles: &[Role],
    triage_department: Option<&DepartmentCode>,
) -> Vec<&'static str> {
    let mut sections = Vec::new();
    let any = |f: fn(&Role) -> bool| roles.iter().any(f);
    // The core's policy lets the triage department's clerks and heads triage too.
    let triages = roles.iter().any(|r| match r {
        Role::Operator => true,
        Role::Clerk(d) | Role::Head(d) => Some(d) == triage_department,
        _ => false,
    });
    if any(|r| matches!(r, Role::Clerk(_) | Role::Head(_))) {
        sections.push("work");
    }
    if any(|r| matches!(r, Role::Expert(_) | Role::Head(_))) {
        sections.push("questions");
    }
    if any(|r| matches!(r, Role::Operator)) {
        sections.push("desk");
    }
    if triages {
        sections.push("triage");
    }
    sections
}

/// A staff page with the menu of the sections its reader works in.
#[derive(Serialize)]
struct WithSections<T: Serialize> {
    sections: Vec<&'static str>,
    #[serde(flatten)]
    page: T,
}

/// A staff page's visit: the page visit and the signed-in member of staff.
pub(crate) struct StaffVisit {
    pub visit: Visit,
    pub caller: Caller,
}

impl StaffVisit {
    /// The visit of a signed-in member of staff, or the way to sign in.
    pub async fn new(
        deps: &Deps,
        raw_query: Option<&str>,
        headers: &HeaderMap,
        path: &str,
    ) -> Result<Self, Response> {
        let visit = Visit::new(deps, raw_query, headers);
        let session = read(headers, &deps.cookies.name(signin::SESSION_COOKIE));
        let identity = match (session, &deps.staff_tokens) {
            (Some(token), Some(tokens)) => tokens.verify(&token).await.ok(),
            _ => None,
        };
        match identity {
            Some(identity) => Ok(Self {
                visit,
                caller: Caller::Staff(identity),
            }),
            None => {
                let next = form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
                let mut response = StatusCode::SEE_OTHER.into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("/staff/login?next={next}")) {
                    response.headers_mut().insert(header::LOCATION, v);
                }
                Err(response)
            }
        }
    }

    /// The signed-in subject, as the pages show who is signed in.
    pub fn subject(&self) -> String {
        self.caller.actor()
    }

    fn roles(&self) -> &[Role] {
        match &self.caller {
            Caller::Staff(identity) => &identity.roles,
            Caller::Integration(_) => &[],
        }
    }

    /// A staff page, its menu the reader's sections.
    pub fn render(
        &self,
        deps: &Deps,
        status: StatusCode,
        template: &str,
        path: &str,
        page: impl Serialize,
    ) -> Response {
        let page = WithSections {
            sections: sections(
                self.roles(),
                deps.catalogue.city().triage_department.as_ref(),
            ),
            page,
        };
        self.visit.render(deps, status, template, path, page)
    }
}

/// `/staff/`: each member of staff to their own work.
async fn start(
    State(deps): State<Arc<Deps>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let staff = match StaffVisit::new(&deps, query.as_deref(), &headers, "/staff/").await {
        Ok(s) => s,
        Err(sign_in) => return sign_in,
    };
    let home = sections(
        staff.roles(),
        deps.catalogue.city().triage_department.as_ref(),
    )
    .first()
    .map(|s| format!("/staff/{s}"));
    if let Some(home) = home.and_then(|h| HeaderValue::from_str(&h).ok()) {
        let mut response = StatusCode::SEE_OTHER.into_response();
        response.headers_mut().insert(header::LOCATION, home);
        return response;
    }
    staff.visit.error(
        &deps,
        StatusCode::FORBIDDEN,
        staff.visit.text(&deps, "staff_no_pages_title"),
        staff.visit.text(&deps, "staff_no_pages"),
    )
}
