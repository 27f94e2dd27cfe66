//! Names SSO token cache files the way the AWS CLI v2 does (`~/.aws/sso/cache/<sha1 hex>.json`).
//! Not for anything security-relevant.

use sha1::{Digest, Sha1};

/// Lower-case hex SHA-1 of `data`.
pub(crate) fn sha1_hex(data: &[u8]) -> String {
    Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::sha1_hex;

    #[test]
    fn known_vectors() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            sha1_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        // The AWS CLI v2 / SDK cache key for the session name "admin" (aws-config's own test).
        assert_eq!(
            sha1_hex(b"admin"),
            "d033e22ae348aeb5660fc2140aec35850c4da997"
        );
    }
}
