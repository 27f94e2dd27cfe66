//! Script functions for AWS SSO profiles in the AWS CLI's config file: `configure_sso`.

use super::api::Api;
use super::state::Shared;

/// Registers the SSO configuration functions.
pub fn register(_api: &mut Api, _state: &Shared) {}
