// A minimal HTTP/1.1 client over a plain TCP socket, so tests can send
// exactly the bytes they want (malformed requests included).
#pragma once

#include <map>
#include <string>

namespace relais::test {

struct RawResponse {
  int status = 0;                              // 0: no answer (connection failed or closed early)
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// Sends `request` verbatim to 127.0.0.1:port and reads the answer until the
// server closes the connection (send "Connection: close").
RawResponse raw_exchange(int port, const std::string& request, int timeout_ms = 10000,
                         const std::string& host = "127.0.0.1");

// Builds and sends a request with Connection: close and a Content-Length.
RawResponse http_request(int port, const std::string& method, const std::string& path,
                         const std::string& body = "",
                         const std::map<std::string, std::string>& headers = {},
                         const std::string& host = "127.0.0.1");

// An IPv4 address of this machine that is not loopback, empty if none.
std::string non_loopback_address();

}  // namespace relais::test
