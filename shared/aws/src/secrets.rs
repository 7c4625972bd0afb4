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

/// The deployment's two id keys, read in one call: the tracking key and the
/// person-index key. Both parameters must exist (tracking links and the
/// person index depend on them, so neither is made up on the fly).
pub async fn id_keys(
    client: &aws_sdk_ssm::Client,
    tracking_name: &str,
    contact_name: &str,
) -> Result<
    (
        citydesk_core::ids::TrackingKey,
        citydesk_core::contact::ContactKey,
    ),
    PortError,
> {
    let out = client
        .get_parameters()
        .names(tracking_name)
        .names(contact_name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| sdk_error("read id keys", &e.into_service_error()))?;
    let value = |name: &str| {
        out.parameters()
            .iter()
            .find(|p| p.name() == Some(name))
            .and_then(|p| p.value())
            .map(str::as_bytes)
            .ok_or_else(|| {
                PortError::permanent(
                    "read id keys",
                    format!("SSM parameter {name} does not exist; create it as a SecureString of 32+ random bytes"),
                )
            })
    };
    Ok((
        citydesk_core::ids::TrackingKey::new(value(tracking_name)?),
        citydesk_core::contact::ContactKey::new(value(contact_name)?),
    ))
}

/// The deployment's person-index key alone (the admin command's erasure).
pub async fn contact_key(
    client: &aws_sdk_ssm::Client,
    name: &str,
) -> Result<citydesk_core::contact::ContactKey, PortError> {
    use secrecy::ExposeSecret;
    let secret = secure_parameter(client, name).await?.ok_or_else(|| {
        PortError::permanent(
            "read contact key",
            format!("SSM parameter {name} does not exist; create it as a SecureString of 32+ random bytes"),
        )
    })?;
    Ok(citydesk_core::contact::ContactKey::new(
        secret.expose_secret().as_bytes(),
    ))
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
