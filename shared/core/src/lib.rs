//! citydesk's domain: what a service request is, how it moves, how it is
//! classified and routed, what the citizen is told, and what is reported.
//!
//! - [`ids`], [`contact`], [`request`], [`status`]: the types, parsed at the edge.
//! - [`catalogue`]: services, departments and districts of a city; [`places`]: its address list; [`service_form`]: a service's extra questions.
//! - [`rules`]: classification and routing rules; [`learning`]: the classifier and routes trained from history.
//! - [`outbox`]: what a committed change sets off, and the domain events of the city's bus.
//! - [`ports`]: the traits adapters implement; [`memory`] has in-memory twins.
//! - [`channels`]: what the residents' channels share before a message is a request (webhook signatures).
//! - [`usecases`]: one module per thing the system does.

pub mod audit;
pub mod catalogue;
pub mod channels;
pub mod contact;
pub mod ids;
pub mod knowledge;
pub mod language;
pub mod learning;
pub mod location;
pub mod media;
pub mod memory;
pub mod messages;
pub mod notifications;
pub mod outbox;
pub mod paging;
pub mod places;
pub mod ports;
pub mod request;
pub mod rules;
pub mod second_line;
pub mod service_form;
pub mod staff;
pub mod status;
pub mod usecases;
pub mod visibility;
