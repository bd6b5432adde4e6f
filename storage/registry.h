// Opens stores by URI. Each backend registers its scheme once (see
// backends.cpp), so adding a backend is one file plus one registration line.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store.h"

namespace relais::store {

using BackendFactory = std::function<Status(const std::string& uri, std::shared_ptr<Store>* out)>;

void register_backend(const std::string& scheme, BackendFactory factory);
std::vector<std::string> registered_schemes();

// Opens (or shares) the store at `uri`, e.g. "memory://" or "redis://host:6379/0".
Status open_store(const std::string& uri, std::shared_ptr<Store>* out);

// The store URI a user configured through RELAIS_STORAGE_TYPE and
// RELAIS_STORAGE_REDIS_URL, or "memory://" when nothing is set.
std::string default_store_uri();

}  // namespace relais::store
