// Waiting in tests without fixed sleeps, and where the built server is.
#pragma once

#include <functional>
#include <string>

namespace relais::test {

// The built relais-server executable (RELAIS_BUILD_DIR).
std::string server_binary();

// Polls f every 20 ms until it holds or timeout_ms passes.
bool eventually(const std::function<bool()>& f, int timeout_ms);

// Iterates the default main context until done() holds or timeout_ms passes.
bool run_context_until(const std::function<bool()>& done, int timeout_ms);

}  // namespace relais::test
