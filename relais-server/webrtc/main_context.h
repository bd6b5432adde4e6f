// Hops from GStreamer's threads to the server's main context, and timers on it.
#pragma once

#include <glib.h>

#include <functional>

#include "glib_handles.h"

namespace relais::webrtc {

// Runs `fn` on `ctx` from its next iteration, never synchronously, so it is
// safe to call from any thread, including the context's own.
void post_to_context(GMainContext* ctx, std::function<void()> fn);

// Runs `fn` once after `ms` milliseconds on `ctx`; destroying the handle cancels it.
GSourcePtr start_timer(GMainContext* ctx, unsigned ms, std::function<void()> fn);

// Runs `fn` every `ms` milliseconds on `ctx` until the handle is destroyed.
GSourcePtr start_interval(GMainContext* ctx, unsigned ms, std::function<void()> fn);

}  // namespace relais::webrtc
