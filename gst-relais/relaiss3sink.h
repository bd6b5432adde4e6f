#pragma once

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS
#define RELAIS_TYPE_S3_SINK (relais_s3_sink_get_type())
G_DECLARE_FINAL_TYPE(RelaisS3Sink, relais_s3_sink, RELAIS, S3_SINK, GstBaseSink)
G_END_DECLS
