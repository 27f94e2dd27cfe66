//! The access model: aws-auth entries, ARN canonicalisation, validation, change sets, plans
//! and diffs. Pure: no I/O and no async, so every rule here is unit-tested in isolation.

pub mod arn;
pub mod entry;
pub mod groups;
pub mod intent;
pub mod lint;
pub mod manifest;
pub mod model;
pub mod plan;
pub mod section;
mod simple_doc;
mod simple_entries;
mod simple_list;
pub mod transition;
pub mod yaml;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
