//! Talking to GitHub: webhook payloads converted to our own event types ([`events`]) and the REST client
//! ([`client`]), the request paths built from payload data ([`path`]), and the linked-tool facts read from it
//! ([`facts`]).

pub mod client;
pub mod deliveries;
pub mod events;
pub mod facts;
pub mod identity;
pub mod path;
pub mod throttle;
