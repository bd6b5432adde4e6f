#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS
#define RELAIS_TYPE_SRC (relais_src_get_type())
G_DECLARE_FINAL_TYPE(RelaisSrc, relais_src, RELAIS, SRC, GstBin)

#define RELAIS_TYPE_RTSP_TRANSPORT (relais_rtsp_transport_get_type())
GType relais_rtsp_transport_get_type(void);
G_END_DECLS
