//! Secrets come from SSM SecureString parameters, read once at cold start;
//! environment variables carry only the parameters' names.

use aws_sdk_ssm::operation::get_parameter::GetParameterError;
use citydesk_core::ports::PortError;
use secrecy::SecretString;

use crate::sdk_error;

/// The decrypted value of a SecureString parameter; `Ok(None)` when it does not exist.
pub async fn secure_parameter(
    client: &aws_sdk_ssm::Client,
    name: &str,
) -> Result<Option<SecretString>, PortError> {
    match client
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
    {
        Ok(out) => Ok(out.parameter.and_then(|p| p.value).map(SecretString::from)),
        Err(e) => match e.into_service_error() {
            GetParameterError::ParameterNotFound(_) => Ok(None),
            other => Err(sdk_error("read secret parameter", &other)),
        },
    }
}

/// The deployment's tracking key; the parameter must exist (the tokens citizens
/// hold depend on it, so it is never made up on the fly).
pub async fn tracking_key(
    client: &aws_sdk_ssm::Client,
    name: &str,
) -> Result<citydesk_core::ids::TrackingKey, PortError> {
    use secrecy::ExposeSecret;
    let secret = secure_parameter(client, name).await?.ok_or_else(|| {
        PortError::permanent(
            "read tracking key",
            format!("SSM parameter {name} does not exist; create it as a SecureString of 32+ random bytes"),
        )
    })?;
    Ok(citydesk_core::ids::TrackingKey::new(
        secret.expose_secret().as_bytes(),
    ))
}
