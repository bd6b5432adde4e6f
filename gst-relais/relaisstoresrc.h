#pragma once

#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS
#define RELAIS_TYPE_STORE_SRC (relais_store_src_get_type())
G_DECLARE_FINAL_TYPE(RelaisStoreSrc, relais_store_src, RELAIS, STORE_SRC, GstPushSrc)

typedef enum {
  RELAIS_STORE_START_KEYFRAME,
  RELAIS_STORE_START_LIVE,
  RELAIS_STORE_START_EARLIEST,
} RelaisStoreStart;

typedef enum {
  RELAIS_STORE_TIMESTAMPS_REBASE,
  RELAIS_STORE_TIMESTAMPS_ORIGINAL,
} RelaisStoreTimestamps;
G_END_DECLS
