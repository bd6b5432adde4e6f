// memory:// — a process-wide store. Frames hold references to the writer's
// payload; readers get the same bytes, never a copy.
#pragma once

#include <memory>
#include <string>

#include "store.h"

namespace relais::store {
Status open_memory_store(const std::string& uri, std::shared_ptr<Store>* out);
}
