#include "fenced_launch.h"

#include <cctype>
#include <string_view>

namespace relais::cluster {
namespace {

constexpr std::string_view kSink = "relaisstoresink";

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
         c == '=' || c == ':';
}

}  // namespace

std::string fenced_launch(const std::string& launch, int64_t epoch) {
  const std::string property = " fence-epoch=" + std::to_string(epoch);
  std::string out;
  out.reserve(launch.size() + 2 * property.size());
  char quote = 0;
  for (size_t i = 0; i < launch.size();) {
    const char c = launch[i];
    if (quote) {
      if (c == '\\' && i + 1 < launch.size()) {
        out.append(launch, i, 2);
        i += 2;
        continue;
      }
      if (c == quote) quote = 0;
      out += c;
      ++i;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      out += c;
      ++i;
      continue;
    }
    const bool starts_word = i == 0 || !is_name_char(launch[i - 1]);
    const size_t end = i + kSink.size();
    if (starts_word && launch.compare(i, kSink.size(), kSink) == 0 &&
        (end == launch.size() || !is_name_char(launch[end]))) {
      out.append(kSink);
      out += property;
      i = end;
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

}  // namespace relais::cluster
