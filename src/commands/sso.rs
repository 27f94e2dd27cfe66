//! `okscript login` and `logout`: the AWS SSO login of a profile, cached where the AWS CLI
//! v2 keeps it.

use super::{runtime, ExitStatus, Failure};
use crate::aws;
use crate::output::Printer;
use crate::settings::AwsSettings;

/// `okscript login`: a new SSO login for the profile (`--profile`, `AWS_PROFILE`, else
/// `default`), written to the AWS CLI v2's token cache; the authorization code grant with
/// PKCE unless `device_code`.
pub fn sso_login(
    aws: &AwsSettings,
    device_code: bool,
    printer: &mut Printer,
) -> Result<ExitStatus, Failure> {
    let profile = aws.ctx.profile_name();
    let opts = aws::SsoLoginOptions {
        open_browser: !aws.no_browser && aws.display,
        force: true,
        sleeper: None,
        authorization_code: !device_code,
        person: aws.terminal || (!aws.no_browser && aws.display),
        browser: aws.browser.clone(),
    };
    let rt = runtime()?;
    let mut show = |line: &str| printer.note(line);
    let cancel = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let done = rt.block_on(aws::sso_login(
        &aws.ctx,
        profile.as_str(),
        &opts,
        &mut show,
        cancel,
    ))?;
    printer.note(&format!(
        "logged in to AWS SSO for profile `{}` ({}) until {}; the token is cached in {}",
        done.profile,
        done.start_url,
        done.expires_at,
        done.cache_file.display()
    ));
    Ok(ExitStatus::Success)
}

/// `okscript logout`: removes the cached SSO login of the profile's SSO session.
pub fn sso_logout(aws: &AwsSettings, printer: &mut Printer) -> Result<ExitStatus, Failure> {
    let profile = aws.ctx.profile_name();
    match aws::sso_logout(&aws.ctx, &profile)? {
        Some(file) => printer.note(&format!(
            "logged out of AWS SSO for profile `{profile}`: removed {}",
            file.display()
        )),
        None => printer.note(&format!(
            "no cached SSO login for profile `{profile}`: nothing to remove"
        )),
    }
    Ok(ExitStatus::Success)
}
