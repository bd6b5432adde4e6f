// Entry decoding without Redis: every input in the fuzzer's corpus (seeds and
// the crashes it found) replayed, and odd shapes anyone may write.
#include <glib.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "decode_resp.h"

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t decode(const std::string& s) {
  return relais::store::fuzz::decode_resp(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(RedisEntry, TheFuzzCorpusDecodesWithoutCrashing) {
  std::filesystem::path dir =
      std::filesystem::path(g_getenv("RELAIS_SOURCE_DIR")) / "tests/fuzz/corpus/redis_entry";
  size_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    decode(read_file(f.path()));
    files++;
  }
  EXPECT_GE(files, 6u);
}

TEST(RedisEntry, OddShapesAreSkippedAndGoodEntriesKept) {
  // An XREAD reply: a good entry, an entry without fields, one whose fields
  // are not an array, nested garbage, and an id that does not parse.
  std::string reply =
      "*1\r\n*2\r\n$5\r\nkey:x\r\n*5\r\n"
      "*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nd\r\n$2\r\nhi\r\n"
      "*1\r\n$3\r\n1-2\r\n"
      "*2\r\n$3\r\n1-3\r\n:7\r\n"
      "*2\r\n*1\r\n:1\r\n*2\r\n:1\r\n$-1\r\n"
      "*2\r\n$4\r\nnope\r\n*0\r\n";
  EXPECT_EQ(decode(reply), 1u);
  // A huge multi-bulk header (hiredis would allocate it whole) is skipped.
  EXPECT_EQ(decode("*1\r\n*2\r\n$3\r\n1-1\r\n*609551616\r\n"), 0u);
}

}  // namespace
