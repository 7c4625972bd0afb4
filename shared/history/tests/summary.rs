//! ImportSummary keeps bounded state however many rows it sees.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_history::summary::{MAX_FIRST_REJECTIONS, MAX_SERVICES};
use citydesk_history::{HistoricalRequest, ImportSummary, RejectReason, RejectedRow, RowResult};

fn request(service: &str) -> RowResult {
    RowResult::Taken(HistoricalRequest {
        source: "nyc".to_owned(),
        source_id: "1".to_owned(),
        created_at: None,
        closed_at: None,
        due_at: None,
        status: None,
        service: service.to_owned(),
        text: String::new(),
        subtype: None,
        department: None,
        district: None,
        lat: None,
        long: None,
        channel: None,
    })
}

fn bad_date(line: u64, column: &str) -> RowResult {
    RowResult::Rejected(RejectedRow {
        line,
        reason: RejectReason::BadDate {
            column: column.to_owned(),
            value: "yesterday".to_owned(),
            example: "05/01/2022 12:00:03 AM".to_owned(),
        },
    })
}

#[test]
fn only_the_first_rejections_are_kept_but_all_are_counted() {
    let mut summary = ImportSummary::default();
    for line in 2..=101 {
        summary.record(&bad_date(
            line,
            if line % 2 == 0 {
                "Created Date"
            } else {
                "Closed Date"
            },
        ));
    }
    assert_eq!(summary.rejected, 100);
    assert_eq!(summary.first_rejections.len(), MAX_FIRST_REJECTIONS);
    assert_eq!(summary.first_rejections[0].line, 2);
    assert_eq!(summary.first_rejections[MAX_FIRST_REJECTIONS - 1].line, 21);
    assert_eq!(
        summary.rejected_by_reason.get("bad date in Created Date"),
        Some(&50)
    );
    assert_eq!(
        summary.rejected_by_reason.get("bad date in Closed Date"),
        Some(&50)
    );
    let rendered = summary.render();
    assert!(rendered.contains("first 20 rejected rows:"), "{rendered}");
    assert!(
        rendered.contains("        50  bad date in Closed Date"),
        "{rendered}"
    );
}

#[test]
fn distinct_services_are_capped() {
    let mut summary = ImportSummary::default();
    for number in 0..MAX_SERVICES + 500 {
        summary.record(&request(&format!("service {number}")));
    }
    summary.record(&request("service 0"));
    assert_eq!(summary.taken, u64::try_from(MAX_SERVICES).unwrap() + 501);
    assert_eq!(summary.services.len(), MAX_SERVICES);
    assert_eq!(summary.services.get("service 0"), Some(&2));
    assert_eq!(summary.rows_of_uncounted_services, 500);
    assert!(
        summary
            .render()
            .contains("and 500 rows of services past the first 2000")
    );
}

#[test]
fn render_lists_the_most_frequent_services_first() {
    let mut summary = ImportSummary {
        schema: "boston".to_owned(),
        ..ImportSummary::default()
    };
    for _ in 0..3 {
        summary.record(&request("Pothole"));
    }
    summary.record(&request("Graffiti"));
    assert_eq!(
        summary.render(),
        "schema boston: 4 rows taken, 0 rejected\n\
         2 services; the most frequent:\n\
         \x20        3  Pothole\n\
         \x20        1  Graffiti\n"
    );
}
