// Bearer-token checks for the admin API.
#pragma once

#include <optional>
#include <string>

#include "http_exchange.h"

namespace relais::server {

// Compares two secrets in time that does not depend on where they differ.
bool constant_time_equals(const std::string& a, const std::string& b);

// The token of "Authorization: Bearer <token>", empty if absent or another scheme.
std::string bearer_token(const HttpRequest& request);

// Admin access: with a token configured, the request must carry it (401
// without, 403 when wrong); without one, only loopback clients are let in
// (403). Returns the refusal, or nothing when the request may proceed.
std::optional<HttpResponse> check_admin(const HttpRequest& request, const std::string& api_token);

}  // namespace relais::server
