// Parsing of redis://[[user]:password@]host[:port][/db] store URIs.
#pragma once

#include <string>

#include "status.h"

namespace relais::store {

struct RedisEndpoint {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string username;  // empty: AUTH with the password only
  std::string password;  // empty: no AUTH
};

Status parse_redis_uri(const std::string& uri, RedisEndpoint* out);

}  // namespace relais::store
