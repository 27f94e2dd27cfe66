//! The HTTP client of every AWS call: the SDK's own (hyper 1, rustls with aws-lc), except
//! that the system's root certificates are loaded only when an `https://` endpoint is
//! called. The SDK's client loads all of them (146 files here) as soon as it is first used,
//! even when every endpoint is plain `http://` on loopback (AWS_ENDPOINT_URL, as in tests
//! and local emulators); with real AWS endpoints nothing changes.

use std::sync::{Arc, OnceLock};

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// The client to give `aws_config`'s loader (`.http_client(...)`).
pub fn client() -> SharedHttpClient {
    // The plain side is the same client with an empty trust store: it only ever sees
    // `http://` requests, and it keeps to the crate's public API.
    let no_roots = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_native_roots(false))
        .build()
        .expect("an empty trust store is a valid TLS context");
    SharedHttpClient::new(LazyTls {
        plain: sdk_client(Some(no_roots)),
        tls: Arc::new(sdk_client(None)),
    })
}

/// What the SDK builds by default (its `default_https_client`): rustls with aws-lc, the
/// proxy from the environment, the runtime's sleep; `context` replaces its trust store.
fn sdk_client(context: Option<TlsContext>) -> SharedHttpClient {
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut builder =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        if let Some(context) = &context {
            builder.set_tls_context(context.clone());
        }
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        builder.set_proxy_config(Some(ProxyConfig::from_env()));
        builder.build()
    })
}

#[derive(Debug)]
struct LazyTls {
    plain: SharedHttpClient,
    tls: Arc<SharedHttpClient>,
}

impl HttpClient for LazyTls {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        // Both clients cache their connectors; this wrapper only picks one per request.
        SharedHttpConnector::new(ByScheme {
            plain: self.plain.http_connector(settings, components),
            tls: OnceLock::new(),
            tls_client: self.tls.clone(),
            settings: settings.clone(),
            components: components.clone(),
        })
    }
}

#[derive(Debug)]
struct ByScheme {
    plain: SharedHttpConnector,
    tls: OnceLock<SharedHttpConnector>,
    tls_client: Arc<SharedHttpClient>,
    settings: HttpConnectorSettings,
    components: RuntimeComponents,
}

impl HttpConnector for ByScheme {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        if request.uri().starts_with("http://") {
            return self.plain.call(request);
        }
        self.tls
            .get_or_init(|| {
                self.tls_client
                    .http_connector(&self.settings, &self.components)
            })
            .call(request)
    }
}
