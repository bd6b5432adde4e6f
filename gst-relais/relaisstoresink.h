#pragma once

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS
#define RELAIS_TYPE_STORE_SINK (relais_store_sink_get_type())
G_DECLARE_FINAL_TYPE(RelaisStoreSink, relais_store_sink, RELAIS, STORE_SINK, GstBaseSink)
G_END_DECLS
