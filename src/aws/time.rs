//! Times as AWS writes them: RFC 3339 in UTC with whole seconds and `Z`
//! (`2026-01-02T03:04:05Z`), the form of ExecCredential expiries, SSO cache dates, IAM
//! creation dates and backup names. One formatter and one forgiving parser.

use std::time::SystemTime;

use aws_sdk_sts::primitives::{DateTime, DateTimeFormat};

/// `YYYY-MM-DDTHH:MM:SSZ` for a point in time (before 1970 reads as the epoch).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339_secs(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch (as SSO OIDC answers expiries).
pub fn rfc3339_secs(secs: i64) -> String {
    date(&DateTime::from_secs(secs))
}

/// An SDK date in the same form.
pub fn date(d: &DateTime) -> String {
    d.fmt(DateTimeFormat::DateTime).unwrap_or_default()
}

/// Parses an RFC 3339 date, also in the `+0000`, `+00:00` and `UTC` suffixes the AWS CLI
/// v1 wrote into its caches; `None` for anything else.
pub fn parse(s: &str) -> Option<SystemTime> {
    let mut text = s.trim().to_string();
    for suffix in ["+0000", "+00:00", "UTC"] {
        if let Some(base) = text.strip_suffix(suffix) {
            text = format!("{}Z", base.trim_end());
            break;
        }
    }
    DateTime::from_str(&text, DateTimeFormat::DateTime)
        .ok()
        .and_then(|d| SystemTime::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_round_trip_in_every_form_aws_wrote() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_323_045);
        assert_eq!(rfc3339(t), "2026-01-02T03:04:05Z");
        assert_eq!(rfc3339_secs(1_767_323_045), "2026-01-02T03:04:05Z");
        for text in [
            "2026-01-02T03:04:05Z",
            "2026-01-02T03:04:05UTC",
            "2026-01-02T03:04:05+0000",
            " 2026-01-02T03:04:05+00:00",
        ] {
            assert_eq!(parse(text), Some(t), "{text}");
        }
        assert!(parse("2026-01-02T03:04:05.123Z").is_some());
        assert!(parse("tomorrow").is_none());
        assert_eq!(
            rfc3339(SystemTime::UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00Z"
        );
    }
}
