//! (placeholder: filled in by the soak work)
