// The list of built-in backends: adding a backend is one line here.
#include "backends.h"

#include "config.h"
#include "memory_store.h"
#include "registry.h"
#if RELAIS_HAVE_REDIS
#include "redis_store.h"
#endif

namespace relais::store {

void register_builtin_backends() {
  register_backend("memory", open_memory_store);
#if RELAIS_HAVE_REDIS
  register_backend("redis", open_redis_store);
#endif
}

}  // namespace relais::store
