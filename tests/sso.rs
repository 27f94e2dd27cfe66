//! (placeholder: filled in by the sso work)
