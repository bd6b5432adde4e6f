// The "relais" plugin: registers every element, nothing else.
#include "config.h"

#include <gst/gst.h>

#include "elements.h"

static gboolean plugin_init(GstPlugin* plugin) {
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER(relaissrc, plugin);
  ok |= GST_ELEMENT_REGISTER(relaisstoresink, plugin);
  ok |= GST_ELEMENT_REGISTER(relaisstoresrc, plugin);
  ok |= GST_ELEMENT_REGISTER(relaiswatermark, plugin);
#if RELAIS_HAVE_S3
  ok |= GST_ELEMENT_REGISTER(relaiss3sink, plugin);
#endif
  return ok;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, relais,
                  "Relais: ingest, frame store (memory/Redis), watermark and S3 egress",
                  plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
