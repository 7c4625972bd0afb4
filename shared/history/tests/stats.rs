//! Service levels and duplicate rates computed from history.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_history::stats::stats_csv;
use citydesk_history::{DuplicateProbe, HistoricalRequest, HistoryReader, HistoryStats, RowResult};

fn row(
    id: &str,
    service: &str,
    created: &str,
    closed: Option<&str>,
    due: Option<&str>,
    at: (f64, f64),
) -> HistoricalRequest {
    HistoricalRequest {
        source: "test".into(),
        source_id: id.into(),
        created_at: Some(created.parse().unwrap()),
        closed_at: closed.map(|c| c.parse().unwrap()),
        due_at: due.map(|d| d.parse().unwrap()),
        status: None,
        service: service.into(),
        text: String::new(),
        subtype: None,
        department: Some(if service == "noise" { "NYPD" } else { "DOT" }.into()),
        district: None,
        lat: Some(at.0),
        long: Some(at.1),
        channel: None,
    }
}

#[test]
fn closing_times_on_time_share_and_reports_near_an_open_one() {
    let mut stats = HistoryStats::new(DuplicateProbe {
        radius_m: 50.0,
        window_hours: 48,
    });
    let here = (40.7000, -73.9000);
    let near = (40.7002, -73.9000); // about 22 m north
    let far = (40.7100, -73.9000); // about 1.1 km
    for r in [
        row(
            "1",
            "noise",
            "2022-05-01T00:00:00Z",
            Some("2022-05-01T02:00:00Z"),
            Some("2022-05-01T08:00:00Z"),
            here,
        ),
        // Within 50 m and 48 h of 1, but 1 was closed by then: not a duplicate.
        row(
            "2",
            "noise",
            "2022-05-01T03:00:00Z",
            Some("2022-05-01T07:00:00Z"),
            Some("2022-05-01T05:00:00Z"),
            near,
        ),
        // Near 2 while 2 is open: a duplicate.
        row(
            "3",
            "noise",
            "2022-05-01T04:00:00Z",
            Some("2022-05-01T10:00:00Z"),
            None,
            here,
        ),
        row("4", "noise", "2022-05-01T04:30:00Z", None, None, far),
        // Another service at the same spot never counts.
        row(
            "5",
            "pothole",
            "2022-05-01T04:40:00Z",
            None,
            Some("2022-05-03T00:00:00Z"),
            here,
        ),
        // Past the window of 3.
        row("6", "noise", "2022-05-04T00:00:00Z", None, None, here),
    ] {
        stats.add(&r);
    }
    let all = stats.finish();
    let noise = all.iter().find(|s| s.service == "noise").unwrap();
    assert_eq!((noise.rows, noise.closed), (5, 3));
    assert_eq!(noise.median_hours_to_close, Some(4.0));
    assert_eq!(noise.p90_hours_to_close, Some(6.0));
    assert_eq!(noise.on_time_share, Some(0.5), "1 on time, 2 late");
    assert_eq!(noise.main_department.as_deref(), Some("NYPD"));
    assert!((noise.duplicate_share - 0.2).abs() < 1e-9, "{noise:?}");
    let pothole = all.iter().find(|s| s.service == "pothole").unwrap();
    assert_eq!(
        (pothole.duplicate_share, pothole.on_time_share),
        (0.0, Some(0.0))
    );
    assert_eq!(all[0].service, "noise", "most rows first");
    let csv = stats_csv(&all).unwrap();
    assert!(csv.starts_with("service,rows,closed,"));
    assert!(
        csv.contains("\nnoise,5,3,4.00,6.00,0.50,NYPD,0.2000\n"),
        "{csv}"
    );
}

#[test]
fn the_real_nyc_day() {
    let reader = HistoryReader::new(
        &include_bytes!("fixtures/nyc311-2022-05-01.csv")[..],
        None,
        jiff::tz::TimeZone::get("America/New_York").unwrap(),
    )
    .unwrap();
    let mut stats = HistoryStats::new(DuplicateProbe {
        radius_m: 50.0,
        window_hours: 48,
    });
    for r in reader {
        if let RowResult::Taken(r) = r.unwrap() {
            stats.add(&r);
        }
    }
    assert_eq!(stats.out_of_order(), 0);
    let all = stats.finish();
    assert_eq!(all.iter().map(|s| s.rows).sum::<u64>(), 924);
    let loud = &all[0];
    assert_eq!(
        (loud.service.as_str(), loud.rows),
        ("Noise - Residential", 379)
    );
    assert_eq!(loud.main_department.as_deref(), Some("NYPD"));
    assert!(
        loud.median_hours_to_close
            .is_some_and(|h| h > 0.0 && h < 24.0),
        "{loud:?}"
    );
    // Neighbours call about the same party: some reports come near an open one.
    assert!(
        loud.duplicate_share > 0.0 && loud.duplicate_share < 0.5,
        "{loud:?}"
    );
}
