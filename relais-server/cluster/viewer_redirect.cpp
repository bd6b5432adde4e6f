#include "viewer_redirect.h"

namespace relais::cluster {

bool at_viewer_budget(int64_t viewers, int64_t max_viewers) {
  return max_viewers > 0 && viewers >= max_viewers;
}

std::string redirect_base(const std::vector<NodeRecord>& nodes, const std::string& self_id) {
  const NodeRecord* best = nullptr;
  for (const NodeRecord& n : nodes) {
    if (n.id == self_id || n.public_url.empty() || at_viewer_budget(n.viewers, n.max_viewers))
      continue;
    if (!best || n.viewers < best->viewers || (n.viewers == best->viewers && n.id < best->id))
      best = &n;
  }
  if (!best) return "";
  std::string base = best->public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

}  // namespace relais::cluster
