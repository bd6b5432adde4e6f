// Owning handles for GStreamer objects, so nothing in Relais unrefs by hand.
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <memory>
#include <utility>

#include "glib_handles.h"

namespace relais {

// A strong reference to a GstObject (or any GObject). Sinks floating refs when adopting.
template <typename T>
class GstRef {
 public:
  GstRef() = default;
  // Takes ownership of a full reference (sinks a floating one).
  static GstRef adopt(T* obj) {
    if (obj && g_object_is_floating(obj)) g_object_ref_sink(obj);
    return GstRef(obj);
  }
  // Adds a reference.
  static GstRef ref(T* obj) { return GstRef(obj ? static_cast<T*>(g_object_ref(obj)) : nullptr); }

  GstRef(const GstRef& o) : obj_(o.obj_ ? static_cast<T*>(g_object_ref(o.obj_)) : nullptr) {}
  GstRef(GstRef&& o) noexcept : obj_(std::exchange(o.obj_, nullptr)) {}
  GstRef& operator=(GstRef o) noexcept {
    std::swap(obj_, o.obj_);
    return *this;
  }
  ~GstRef() { reset(); }

  void reset() {
    if (obj_) g_object_unref(std::exchange(obj_, nullptr));
  }
  T* get() const { return obj_; }
  T* release() { return std::exchange(obj_, nullptr); }
  T* operator->() const { return obj_; }
  explicit operator bool() const { return obj_ != nullptr; }

 private:
  explicit GstRef(T* obj) : obj_(obj) {}
  T* obj_ = nullptr;
};

using ElementRef = GstRef<GstElement>;
using PadRef = GstRef<GstPad>;
using BusRef = GstRef<GstBus>;

struct GstCapsDeleter {
  void operator()(GstCaps* c) const { gst_caps_unref(c); }
};
struct GstBufferDeleter {
  void operator()(GstBuffer* b) const { gst_buffer_unref(b); }
};
struct GstMessageDeleter {
  void operator()(GstMessage* m) const { gst_message_unref(m); }
};
struct GstEventDeleter {
  void operator()(GstEvent* e) const { gst_event_unref(e); }
};
struct GstStructureDeleter {
  void operator()(GstStructure* s) const { gst_structure_free(s); }
};
struct GstSampleDeleter {
  void operator()(GstSample* s) const { gst_sample_unref(s); }
};
struct GstQueryDeleter {
  void operator()(GstQuery* q) const { gst_query_unref(q); }
};

using CapsPtr = std::unique_ptr<GstCaps, GstCapsDeleter>;
using BufferPtr = std::unique_ptr<GstBuffer, GstBufferDeleter>;
using MessagePtr = std::unique_ptr<GstMessage, GstMessageDeleter>;
using EventPtr = std::unique_ptr<GstEvent, GstEventDeleter>;
using StructurePtr = std::unique_ptr<GstStructure, GstStructureDeleter>;
using SamplePtr = std::unique_ptr<GstSample, GstSampleDeleter>;
using QueryPtr = std::unique_ptr<GstQuery, GstQueryDeleter>;

// A mapped buffer, unmapped when it goes out of scope.
class MappedBuffer {
 public:
  MappedBuffer(GstBuffer* buffer, GstMapFlags flags) : buffer_(buffer) {
    mapped_ = gst_buffer_map(buffer, &info_, flags);
  }
  ~MappedBuffer() {
    if (mapped_) gst_buffer_unmap(buffer_, &info_);
  }
  MappedBuffer(const MappedBuffer&) = delete;
  MappedBuffer& operator=(const MappedBuffer&) = delete;

  bool ok() const { return mapped_; }
  guint8* data() const { return info_.data; }
  gsize size() const { return info_.size; }

 private:
  GstBuffer* buffer_;
  GstMapInfo info_{};
  bool mapped_ = false;
};

// A mapped video frame, unmapped when it goes out of scope.
class MappedVideoFrame {
 public:
  MappedVideoFrame(const GstVideoInfo* info, GstBuffer* buffer, GstMapFlags flags) {
    mapped_ = gst_video_frame_map(&frame_, const_cast<GstVideoInfo*>(info), buffer, flags);
  }
  ~MappedVideoFrame() {
    if (mapped_) gst_video_frame_unmap(&frame_);
  }
  MappedVideoFrame(const MappedVideoFrame&) = delete;
  MappedVideoFrame& operator=(const MappedVideoFrame&) = delete;

  bool ok() const { return mapped_; }
  GstVideoFrame* get() { return &frame_; }

 private:
  GstVideoFrame frame_{};
  bool mapped_ = false;
};

// Holds GST_OBJECT_LOCK for a scope.
class ObjectLock {
 public:
  explicit ObjectLock(gpointer obj) : obj_(GST_OBJECT(obj)) { GST_OBJECT_LOCK(obj_); }
  ~ObjectLock() { GST_OBJECT_UNLOCK(obj_); }
  ObjectLock(const ObjectLock&) = delete;
  ObjectLock& operator=(const ObjectLock&) = delete;

 private:
  GstObject* obj_;
};

}  // namespace relais
