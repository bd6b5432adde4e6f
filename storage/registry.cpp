#include "registry.h"

#include <map>
#include <mutex>

#include "glib_handles.h"

namespace relais::store {
namespace {

struct Registry {
  std::mutex mutex;  // guards factories
  std::map<std::string, BackendFactory> factories;
};

// Leaked on purpose: backends may be used from threads that outlive static
// destruction at exit.
Registry& registry() {
  static Registry* r = new Registry();
  return *r;
}

void register_builtin_backends_once();

}  // namespace

void register_backend(const std::string& scheme, BackendFactory factory) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.factories[scheme] = std::move(factory);
}

std::vector<std::string> registered_schemes() {
  register_builtin_backends_once();
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> out;
  for (const auto& [scheme, factory] : r.factories) out.push_back(scheme);
  return out;
}

Status open_store(const std::string& uri, std::shared_ptr<Store>* out) {
  register_builtin_backends_once();
  const char* scheme = g_uri_peek_scheme(uri.c_str());  // interned, not owned
  if (!scheme) {
    return {StatusCode::kInvalidArgument,
            "store URI '" + uri + "' is not a URI; use memory:// or redis://host:port[/db]"};
  }
  BackendFactory factory;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.factories.find(scheme);
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) {
    std::string known;
    for (const auto& s : registered_schemes()) known += (known.empty() ? "" : ", ") + s + "://";
    return {StatusCode::kUnknownScheme, "no frame store backend for scheme '" +
                                            std::string(scheme) + "' (known: " + known + ")"};
  }
  return factory(uri, out);
}

std::string default_store_uri() {
  const char* type = g_getenv("RELAIS_STORAGE_TYPE");
  if (type && g_ascii_strcasecmp(type, "redis") == 0) {
    const char* url = g_getenv("RELAIS_STORAGE_REDIS_URL");
    std::string address = (url && *url) ? url : "localhost:6379";
    if (address.find("://") == std::string::npos) address = "redis://" + address;
    return address;
  }
  return "memory://";
}

bool is_valid_stream_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace relais::store

// Built-in backends: one registration line each.
#include "backends.h"

namespace relais::store {
namespace {
void register_builtin_backends_once() {
  static std::once_flag once;
  std::call_once(once, [] { register_builtin_backends(); });
}
}  // namespace
}  // namespace relais::store
