#include "part_buffer.h"

#include <algorithm>
#include <cstring>

namespace relais::s3 {

PartBuffer::PartBuffer(guint64 reserve) {
  grow(reserve);
}

void PartBuffer::grow(guint64 capacity) {
  if (capacity <= capacity_) return;
  // g_realloc of a large block moves pages, not bytes.
  data_.reset(static_cast<guint8*>(g_realloc(data_.release(), capacity)));
  capacity_ = capacity;
}

void PartBuffer::append(const guint8* data, guint64 size) {
  if (size == 0) return;
  if (size_ + size > capacity_) grow(std::max(size_ + size, capacity_ + capacity_ / 2));
  memcpy(data_.get() + size_, data, size);
  size_ += size;
}

Bytes PartBuffer::take(guint64 size, guint64 reserve) {
  size = std::min(size, size_);
  PartBuffer rest(std::max(reserve, size_ - size));
  rest.append(data_.get() + size, size_ - size);
  // The part keeps this buffer, trimmed to its size.
  guint8* part = static_cast<guint8*>(g_realloc(data_.release(), std::max<guint64>(size, 1)));
  Bytes out = Bytes::adopt(g_bytes_new_take(part, size));
  *this = std::move(rest);
  return out;
}

}  // namespace relais::s3
