// redis:// — frames in Redis Streams, shared by every process and machine
// that uses the same Redis (see redis_schema.h for the keys).
#pragma once

#include <memory>
#include <string>

#include "store.h"

namespace relais::store {
Status open_redis_store(const std::string& uri, std::shared_ptr<Store>* out);
}
