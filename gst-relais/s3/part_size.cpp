#include "part_size.h"

#include <algorithm>

namespace relais::s3 {

guint64 part_size_for(int number, guint64 base, int parts_per_doubling) {
  guint64 size = std::min(std::max<guint64>(base, 1), kMaxPartSize);
  int doublings = (std::max(number, 1) - 1) / std::max(parts_per_doubling, 1);
  for (int i = 0; i < doublings && size < kMaxPartSize; ++i) size *= 2;
  return std::min(size, kMaxPartSize);
}

}  // namespace relais::s3
