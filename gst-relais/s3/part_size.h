// S3's multipart limits and how the part size grows so that any object S3
// accepts (up to 5 TiB) fits in its 10,000 parts.
#pragma once

#include <glib.h>

namespace relais::s3 {

inline constexpr guint64 kMinPartSize = 5ull << 20;  // every part but the last
inline constexpr guint64 kMaxPartSize = 5ull << 30;
inline constexpr guint64 kMaxObjectSize = 5ull << 40;
inline constexpr int kMaxParts = 10000;
inline constexpr int kPartsPerDoubling = 900;

// Size of part `number` (1-based) when the first parts are `base` bytes:
// `base` for the first `parts_per_doubling` parts, then twice as much for
// each further `parts_per_doubling` parts, never more than kMaxPartSize.
// With base >= kMinPartSize and the default step, 10,000 parts hold more
// than kMaxObjectSize (9.3 TiB at 5 MiB), and the first 900 parts are
// `base` (4.4 GiB of an object at 5 MiB).
guint64 part_size_for(int number, guint64 base, int parts_per_doubling = kPartsPerDoubling);

}  // namespace relais::s3
