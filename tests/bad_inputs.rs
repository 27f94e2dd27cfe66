//! (placeholder: filled in by the bad_inputs work)
