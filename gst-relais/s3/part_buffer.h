// The bytes of the part being filled, in 64-bit sizes (S3 parts go up to
// 5 GiB, past what a GByteArray can hold). A full part leaves as a GBytes
// without copying; only the bytes after it move to a new buffer.
#pragma once

#include <glib.h>

#include <memory>

#include "glib_handles.h"

namespace relais::s3 {

class PartBuffer {
 public:
  // `reserve`: bytes to allocate up front (the size of the part to come).
  explicit PartBuffer(guint64 reserve = 0);
  guint64 size() const { return size_; }
  const guint8* data() const { return data_.get(); }
  void append(const guint8* data, guint64 size);
  // Moves the first `size` bytes (all of them, when fewer) out as one
  // GBytes; the rest stays, in a buffer with room for `reserve` bytes.
  Bytes take(guint64 size, guint64 reserve);

 private:
  void grow(guint64 capacity);

  std::unique_ptr<guint8, GFreeDeleter> data_;
  guint64 size_ = 0;
  guint64 capacity_ = 0;
};

}  // namespace relais::s3
