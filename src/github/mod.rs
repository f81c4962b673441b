//! Talking to GitHub: webhook payloads converted to our own event types ([`events`]) and the REST client
//! ([`client`]).

pub mod client;
pub mod events;
pub mod throttle;
