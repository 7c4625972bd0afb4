//! "Which service is this?" before anything is filed: the classifier's top
//! services for a text, each with the department routing would choose and
//! the due time it would set, so a resident's form and an operator's console
//! can suggest the service as it is typed. Creates nothing, stores nothing.

use jiff::Timestamp;

use crate::catalogue::Catalogue;
use crate::ids::{DepartmentCode, ServiceCode};
use crate::language::Language;
use crate::location::GeoPoint;
use crate::rules::classification::CityClassifier;
use crate::rules::routing::{RoutingCase, route};
use crate::usecases::submit_request::MAX_DESCRIPTION_CHARS;

/// The shortest text worth classifying (a word or two).
pub const MIN_PREVIEW_CHARS: usize = 3;

/// One service the text may be about.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSuggestion {
    pub service_code: ServiceCode,
    pub service_name: String,
    pub group: String,
    pub department: DepartmentCode,
    pub department_name: String,
    /// 0..1: how sure the classifier is.
    pub confidence: f64,
    /// When it would be due if it were filed now (the service's SLA in the
    /// city's working time).
    pub due_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServicePreview {
    /// Most probable first; empty when nothing in the text points anywhere.
    pub suggestions: Vec<ServiceSuggestion>,
    /// Whether the first is sure enough that classification would place it
    /// without a person (the deployment's threshold).
    pub confident: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreviewError {
    #[error("description must be {MIN_PREVIEW_CHARS} to {MAX_DESCRIPTION_CHARS} characters")]
    Length,
}

/// The services `text` may be about, in `language`, as routing would place
/// them at `now` (a point picks the district's department).
pub fn preview_service(
    catalogue: &Catalogue,
    classifier: &CityClassifier,
    text: &str,
    point: Option<GeoPoint>,
    language: Language,
    threshold: f64,
    now: Timestamp,
) -> Result<ServicePreview, PreviewError> {
    let text = text.trim();
    let chars = text.chars().count();
    if !(MIN_PREVIEW_CHARS..=MAX_DESCRIPTION_CHARS).contains(&chars) {
        return Err(PreviewError::Length);
    }
    let district = point
        .and_then(|p| catalogue.district_at(p))
        .map(|d| d.code.clone());
    let suggestions: Vec<ServiceSuggestion> = classifier
        .top3(text)
        .into_iter()
        .filter_map(|c| {
            let service = catalogue.service(&c.service_code)?;
            let case = RoutingCase {
                service: &c.service_code,
                district: district.as_deref(),
                text,
                received_at: now,
            };
            let decision = route(catalogue, &case, None, &[]).ok()?;
            Some(ServiceSuggestion {
                service_name: service.name.get(language).to_owned(),
                group: service.group.clone(),
                department: decision.department.code.clone(),
                department_name: decision.department.name.get(language).to_owned(),
                confidence: c.confidence,
                due_at: decision.due_at,
                service_code: c.service_code,
            })
        })
        .collect();
    let confident = suggestions
        .first()
        .is_some_and(|s| s.confidence >= threshold);
    Ok(ServicePreview {
        suggestions,
        confident,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{CatalogueDocument, Catalogues};
    use crate::rules::classification::Classifiers;

    fn demo() -> (Catalogue, Classifiers) {
        let toml = include_str!("../../../../infra/demo-city/catalogue.toml");
        let geojson = include_str!("../../../../infra/demo-city/districts.geojson");
        let catalogue =
            Catalogue::new(CatalogueDocument::from_sources(toml, geojson).unwrap()).unwrap();
        let classifiers = Classifiers::new(&Catalogues::single(catalogue.clone()));
        (catalogue, classifiers)
    }

    #[test]
    fn a_pothole_is_previewed_with_its_department_and_due_time() {
        let (catalogue, classifiers) = demo();
        let classifier = classifiers.get(&catalogue.city().jurisdiction_id).unwrap();
        let now: Timestamp = "2026-12-02T09:00:00Z".parse().unwrap();
        let preview = preview_service(
            &catalogue,
            classifier,
            "Ogromna dziura w jezdni przed szkołą",
            None,
            Language::En,
            0.35,
            now,
        )
        .unwrap();
        let first = &preview.suggestions[0];
        assert_eq!(first.service_code.as_str(), "pothole");
        assert_eq!(first.department.as_str(), "roads");
        assert!(first.due_at > now);
        assert!(preview.confident, "{preview:?}");
        // Graffiti in the Old Town goes to the conservator, as routing would send it.
        let old_town = GeoPoint::parse(50.0614, 19.9366).unwrap();
        let graffiti = preview_service(
            &catalogue,
            classifier,
            "graffiti na murze kamienicy",
            Some(old_town),
            Language::Pl,
            0.35,
            now,
        )
        .unwrap();
        assert_eq!(graffiti.suggestions[0].department.as_str(), "heritage");
        assert_eq!(
            preview_service(&catalogue, classifier, " a ", None, Language::Pl, 0.35, now),
            Err(PreviewError::Length)
        );
    }
}
