#pragma once

#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS
#define RELAIS_TYPE_WATERMARK (relais_watermark_get_type())
G_DECLARE_FINAL_TYPE(RelaisWatermark, relais_watermark, RELAIS, WATERMARK, GstVideoFilter)
#define RELAIS_TYPE_WATERMARK_POSITION (relais_watermark_position_get_type())
GType relais_watermark_position_get_type(void);
G_END_DECLS
