//! An MQTT broker's address (`mqtt://HOST[:PORT]`, or `mqtts://` for TLS) made into client
//! options, for the outbound MQTT capability and the MQTT trigger alike.

use rumqttc::{MqttOptions, TlsConfiguration, Transport};

/// The client options for `address`, connecting as `client_id`; the error says what is wrong
/// with the address.
pub fn broker_options(address: &str, client_id: String) -> Result<MqttOptions, String> {
    let uri: http::Uri = address
        .parse()
        .map_err(|e| format!("invalid address {address}: {e}"))?;
    let tls = match uri.scheme_str() {
        Some("mqtt") => false,
        Some("mqtts") => true,
        _ => {
            return Err(format!(
                "invalid address {address}: write mqtt://HOST:PORT, or mqtts://HOST:PORT for TLS"
            ))
        }
    };
    let host = uri
        .host()
        .ok_or_else(|| format!("invalid address {address}: no host"))?;
    let port = uri.port_u16().unwrap_or(if tls { 8883 } else { 1883 });
    let mut options = MqttOptions::new(client_id, host, port);
    if tls {
        let config = super::tls::client_config()?;
        options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(config)));
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_tls_addresses() {
        let plain = broker_options("mqtt://broker:1884", "a".into()).unwrap();
        assert_eq!(plain.broker_address(), ("broker".to_string(), 1884));
        assert!(matches!(plain.transport(), Transport::Tcp));
        let default_port = broker_options("mqtt://broker", "a".into()).unwrap();
        assert_eq!(default_port.broker_address().1, 1883);
        assert!(broker_options("http://broker", "a".into()).is_err());
        assert!(broker_options("mqtt://", "a".into()).is_err());
    }
}
