// What an HttpServer is told at construction: TLS, the limits that keep one
// client from exhausting it, and the Host names it answers to. Plain values,
// filled from `service.tls`, `service.http_limits` and
// `service.allowed_hosts` by connectors/app/settings.
#pragma once

#include <string>
#include <vector>

namespace mozaiek {

struct HttpTlsOptions {
  std::string certificate;                  // PEM chain file; empty: plain HTTP
  std::string key;                          // PEM private key file
  std::string client_ca;                    // PEM CA file; set: client certificates are verified
  bool require_client_certificate = false;  // refuse the handshake without one

  bool enabled() const { return !certificate.empty(); }
};

struct HttpLimits {
  int max_body_bytes = 1024 * 1024;  // larger bodies: 413 before they are read
  int max_header_bytes = 16 * 1024;  // request line plus headers: 431 beyond
  int max_connections = 256;         // open at once; further ones are closed at accept
  int max_queued_requests = 64;      // waiting for a worker; further ones: 503
  int request_timeout_ms = 10000;    // to receive one whole request (or an idle keep-alive)
  int threads = 16;                  // workers that run handlers and live streams
  int max_streams = 8;               // live event streams open at once (each holds a worker)
  int max_streams_per_principal = 2;
};

struct HttpServerOptions {
  HttpTlsOptions tls;
  HttpLimits limits;
  // Host header values (without port) answered besides the listen host,
  // localhost, 127.0.0.1, ::1 and the certificate's names.
  std::vector<std::string> allowed_hosts;
};

}  // namespace mozaiek
