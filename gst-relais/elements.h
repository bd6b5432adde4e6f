// Element registration declarations, one line per element.
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS
GST_ELEMENT_REGISTER_DECLARE(relaissrc);
GST_ELEMENT_REGISTER_DECLARE(relaisstoresink);
GST_ELEMENT_REGISTER_DECLARE(relaisstoresrc);
GST_ELEMENT_REGISTER_DECLARE(relaiswatermark);
GST_ELEMENT_REGISTER_DECLARE(relaiss3sink);
G_END_DECLS
