//! What both emulator test binaries share: the endpoint, clients, a fresh
//! table built from `template.yaml`'s definition, and a request to write.
#![allow(dead_code)]

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use citydesk_aws::config::Clients;
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::system::RandomIds;
use citydesk_core::contact::{Contact, PhoneNumber};
use citydesk_core::language::Language;
use citydesk_core::location::Location;
use citydesk_core::ports::*;
use citydesk_core::request::{Channel, EventKind, HistoryEvent, ServiceRequest};
use citydesk_core::status::Status;
use jiff::Timestamp;

pub fn endpoint() -> String {
    std::env::var("CITYDESK_TEST_ENDPOINT")
        .expect("CITYDESK_TEST_ENDPOINT is not set: run the tests with `make test`, which starts the emulator")
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

pub async fn clients() -> Clients {
    Clients::for_emulator(&endpoint()).await.unwrap()
}

pub fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .unwrap()
}

/// The `Table` resource of template.yaml, so the tests' tables cannot drift
/// from the deployed one (keys, indexes, projections, stream).
pub fn template_table() -> serde_norway::Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml"))
        .unwrap();
    let template: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    template["Resources"]["Table"]["Properties"].clone()
}

pub fn text(v: &serde_norway::Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("template.yaml Table: {v:?} is not a string"))
}

pub fn key_schema(keys: &serde_norway::Value) -> Vec<KeySchemaElement> {
    keys.as_sequence()
        .unwrap()
        .iter()
        .map(|k| {
            key(
                text(&k["AttributeName"]),
                KeyType::from(text(&k["KeyType"])),
            )
        })
        .collect()
}

/// A fresh table shaped like template.yaml's `Table`.
pub async fn fresh_store() -> DynamoStore {
    let c = clients().await;
    let table = unique("table");
    let spec = template_table();
    let mut create = c
        .dynamodb
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&spec["KeySchema"])));
    for index in spec["GlobalSecondaryIndexes"].as_sequence().unwrap() {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(text(&index["IndexName"]))
                .set_key_schema(Some(key_schema(&index["KeySchema"])))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(text(
                            &index["Projection"]["ProjectionType"],
                        )))
                        .build(),
                )
                .build()
                .unwrap(),
        );
    }
    for attribute in spec["AttributeDefinitions"].as_sequence().unwrap() {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(text(&attribute["AttributeName"]))
                .attribute_type(ScalarAttributeType::from(text(&attribute["AttributeType"])))
                .build()
                .unwrap(),
        );
    }
    if let Some(view) = spec["StreamSpecification"]["StreamViewType"].as_str() {
        create = create.stream_specification(
            aws_sdk_dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(aws_sdk_dynamodb::types::StreamViewType::from(view))
                .build()
                .unwrap(),
        );
    }
    create.send().await.unwrap();
    DynamoStore::new(c.dynamodb, table)
}

pub fn new_request(at: Timestamp, idempotency: Option<&str>) -> NewRequest {
    let ids = RandomIds::new(
        citydesk_core::ids::TrackingKey::new(b"tests"),
        citydesk_core::contact::ContactKey::new(b"tests"),
    );
    let id = ids.request_id();
    let token = ids.tracking_token(&id);
    let request = ServiceRequest {
        id,
        case_number: ids.case_number(),
        jurisdiction: citydesk_core::ids::JurisdictionId::parse("krakow").unwrap(),
        channel: Channel::Web,
        language: Language::Pl,
        service_code: Some(citydesk_core::ids::ServiceCode::parse("pothole").unwrap()),
        classification_confidence: None,
        description: "Dziura w jezdni".into(),
        location: Location::parse(Some(50.07), Some(19.935), None).unwrap(),
        status: Status::New,
        department: None,
        due_at: None,
        created_at: at,
        updated_at: at,
        resolved_at: None,
        resolution: None,
        privacy_requested: false,
        public_description: None,
        open311_client: None,
        tracking_token_hash: token.hash(),
        has_contact: true,
        attributes: Default::default(),
        media: Vec::new(),
        suggestions: Vec::new(),
        declined_departments: Vec::new(),
        duplicate_of: None,
        follows: None,
        followers: Vec::new(),
        follower_count: 0,
        sla_warning_at: None,
        sla_warned: false,
        sla_breach_noted: false,
        assignee: None,
        sla_paused_at: None,
        transfer_to: None,
        version: 1,
    };
    NewRequest {
        created: HistoryEvent {
            seq: 1,
            at,
            actor: "citizen".into(),
            by: None,
            kind: EventKind::Created {
                channel: Channel::Web,
            },
        },
        request,
        contact: Some(Contact {
            phone: PhoneNumber::parse("+48600100200").ok(),
            ..Contact::default()
        }),
        person_keys: Vec::new(),
        idempotency: idempotency.map(|k| IdempotencyClaim {
            key: k.into(),
            payload_hash: "h1".into(),
        }),
    }
}

pub fn now() -> Timestamp {
    Timestamp::now()
}
