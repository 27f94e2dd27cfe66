//! Script functions for the SSO login itself: `sso_login`, `sso_logout`.

use super::api::Api;
use super::state::Shared;

/// Registers the SSO login functions.
pub fn register(_api: &mut Api, _state: &Shared) {}
