//! The whole pipeline on in-memory ports: intake → classify → route →
//! department → notify → report, including repeated deliveries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod department_work;
mod duplicates_and_sla;
mod first_line;
mod rerouting;
mod second_line;
mod stages;
mod texting_limits;
mod world;
