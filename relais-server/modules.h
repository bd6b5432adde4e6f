// Modules beyond the core API (WHEP viewers, ...) register their routes and
// metrics here, in one place.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "server_app.h"
#include "server_config.h"

namespace relais::server {

// Keeps the modules alive; destroy it after the HTTP server has closed and
// before the pipelines and GStreamer go away.
using ModuleHandles = std::vector<std::shared_ptr<void>>;

// Registers every built-in module's routes and metrics on `app`. False with
// *error set when a module's configuration is wrong.
bool register_modules(ServerApp* app, const Config& config, ModuleHandles* modules,
                      std::string* error);

}  // namespace relais::server
