// Owning handles for GLib resources, so nothing in Relais unrefs by hand.
#pragma once

#include <glib-object.h>
#include <glib.h>

#include <memory>
#include <utility>

namespace relais {

struct GFreeDeleter {
  void operator()(gpointer p) const { g_free(p); }
};
struct GBytesDeleter {
  void operator()(GBytes* b) const { g_bytes_unref(b); }
};
struct GErrorDeleter {
  void operator()(GError* e) const { g_error_free(e); }
};
struct GMainLoopDeleter {
  void operator()(GMainLoop* l) const { g_main_loop_unref(l); }
};
struct GMainContextDeleter {
  void operator()(GMainContext* c) const { g_main_context_unref(c); }
};
struct GSourceDeleter {
  void operator()(GSource* s) const {
    g_source_destroy(s);
    g_source_unref(s);
  }
};
struct GUriDeleter {
  void operator()(GUri* u) const { g_uri_unref(u); }
};
struct GHashTableDeleter {
  void operator()(GHashTable* t) const { g_hash_table_unref(t); }
};
struct GStrvDeleter {
  void operator()(gchar** v) const { g_strfreev(v); }
};

using GCharPtr = std::unique_ptr<gchar, GFreeDeleter>;
using GErrorPtr = std::unique_ptr<GError, GErrorDeleter>;
using GMainLoopPtr = std::unique_ptr<GMainLoop, GMainLoopDeleter>;
using GMainContextPtr = std::unique_ptr<GMainContext, GMainContextDeleter>;
using GSourcePtr = std::unique_ptr<GSource, GSourceDeleter>;
using GUriPtr = std::unique_ptr<GUri, GUriDeleter>;
using GHashTablePtr = std::unique_ptr<GHashTable, GHashTableDeleter>;
using GStrvPtr = std::unique_ptr<gchar*, GStrvDeleter>;

// A shared, reference-counted GBytes. Copying the handle takes a reference;
// the payload itself is never copied.
class Bytes {
 public:
  Bytes() = default;
  // Takes ownership of one reference.
  static Bytes adopt(GBytes* b) { return Bytes(b); }
  static Bytes copy_of(const void* data, gsize size) { return Bytes(g_bytes_new(data, size)); }

  Bytes(const Bytes& o) : bytes_(o.bytes_ ? g_bytes_ref(o.bytes_) : nullptr) {}
  Bytes(Bytes&& o) noexcept : bytes_(std::exchange(o.bytes_, nullptr)) {}
  Bytes& operator=(Bytes o) noexcept {
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~Bytes() {
    if (bytes_) g_bytes_unref(bytes_);
  }

  GBytes* get() const { return bytes_; }
  // Returns a new reference for APIs that take ownership.
  GBytes* ref() const { return bytes_ ? g_bytes_ref(bytes_) : nullptr; }
  const guint8* data() const {
    return bytes_ ? static_cast<const guint8*>(g_bytes_get_data(bytes_, nullptr)) : nullptr;
  }
  gsize size() const { return bytes_ ? g_bytes_get_size(bytes_) : 0; }
  explicit operator bool() const { return bytes_ != nullptr; }

 private:
  explicit Bytes(GBytes* b) : bytes_(b) {}
  GBytes* bytes_ = nullptr;
};

}  // namespace relais
