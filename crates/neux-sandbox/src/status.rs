//! The envelope statuses the sandbox answers with: neux-proto's one table
//! ([`neux_proto::status`]), re-exported here for readers of sandbox answers.

pub use neux_proto::status::*;
