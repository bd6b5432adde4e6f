#include "store_frame_convert.h"

namespace relais {
namespace {

struct MappedPayload {
  GstBuffer* buffer;
  GstMapInfo map;
};

void release_mapped_payload(gpointer data) {
  auto* m = static_cast<MappedPayload*>(data);
  gst_buffer_unmap(m->buffer, &m->map);
  gst_buffer_unref(m->buffer);
  delete m;
}

uint64_t to_store_time(GstClockTime t) {
  return GST_CLOCK_TIME_IS_VALID(t) ? t : store::kTimeNone;
}
GstClockTime to_gst_time(uint64_t t) {
  return t == store::kTimeNone ? GST_CLOCK_TIME_NONE : t;
}

}  // namespace

bool frame_from_buffer(GstBuffer* buffer, const store::CapsString& caps, store::Frame* out) {
  auto* m = new MappedPayload{gst_buffer_ref(buffer), {}};
  if (!gst_buffer_map(m->buffer, &m->map, GST_MAP_READ)) {
    gst_buffer_unref(m->buffer);
    delete m;
    return false;
  }
  out->payload =
      Bytes::adopt(g_bytes_new_with_free_func(m->map.data, m->map.size, release_mapped_payload, m));
  out->pts = to_store_time(GST_BUFFER_PTS(buffer));
  out->dts = to_store_time(GST_BUFFER_DTS(buffer));
  out->duration = to_store_time(GST_BUFFER_DURATION(buffer));
  uint32_t flags = 0;
  if (!GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) flags |= store::kFlagKeyframe;
  if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DISCONT)) flags |= store::kFlagDiscont;
  if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_HEADER)) flags |= store::kFlagHeader;
  out->flags = flags;
  out->caps = caps;
  return true;
}

GstBuffer* buffer_from_frame(const store::Frame& frame) {
  // An empty payload (an entry without `d`, a 0-byte buffer) has no data
  // pointer, which gst_buffer_new_wrapped_bytes() refuses: push an empty buffer.
  GstBuffer* buffer = frame.payload.size() > 0 ? gst_buffer_new_wrapped_bytes(frame.payload.ref())
                                               : gst_buffer_new();
  GST_BUFFER_PTS(buffer) = to_gst_time(frame.pts);
  GST_BUFFER_DTS(buffer) = to_gst_time(frame.dts);
  GST_BUFFER_DURATION(buffer) = to_gst_time(frame.duration);
  if (!frame.is_keyframe()) GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  if (frame.flags & store::kFlagDiscont) GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
  if (frame.flags & store::kFlagHeader) GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_HEADER);
  return buffer;
}

}  // namespace relais
