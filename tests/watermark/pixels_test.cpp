// relaiswatermark pixel tests: every supported format (planar YUV,
// semi-planar, packed RGB with and without alpha, GRAY8), marks inside the
// frame at odd offsets, clipped at each edge, centred on odd-sized frames,
// at opacity 1 and in between, all against the independent reference.
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <string>
#include <tuple>

#include "harness_util.h"
#include "reference.h"
#include "temp_dir.h"

namespace {

using wmtest::BufferPtr;

struct Case {
  const char* name;
  const char* position;
  int x, y;
  double opacity;
  int width, height;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

const Case kCases[] = {
    {"InsideOddOffset", "top-left", 5, 3, 1.0, 64, 48},
    {"ClippedTopLeft", "top-left", -3, -2, 1.0, 64, 48},
    {"ClippedBottomRight", "bottom-right", 3, 1, 0.37, 64, 48},
    {"TopRightTranslucent", "top-right", -1, 7, 0.73, 64, 48},
    {"BottomLeftClipped", "bottom-left", -4, 5, 1.0, 64, 48},
    {"CenterOddFrame", "center", 1, -1, 0.5, 61, 45},
    {"OddFrameEdge", "bottom-right", 0, 0, 1.0, 61, 45},
};

const GstVideoFormat kFormats[] = {
    GST_VIDEO_FORMAT_I420,  GST_VIDEO_FORMAT_YV12, GST_VIDEO_FORMAT_Y42B, GST_VIDEO_FORMAT_Y444,
    GST_VIDEO_FORMAT_NV12,  GST_VIDEO_FORMAT_NV21, GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_BGRA,
    GST_VIDEO_FORMAT_ARGB,  GST_VIDEO_FORMAT_ABGR, GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx,
    GST_VIDEO_FORMAT_xRGB,  GST_VIDEO_FORMAT_xBGR, GST_VIDEO_FORMAT_RGB,  GST_VIDEO_FORMAT_BGR,
    GST_VIDEO_FORMAT_GRAY8,
};

constexpr int kMarkW = 9;
constexpr int kMarkH = 7;

// Where the test expects the mark's top-left corner, worked out here.
void expected_origin(const Case& c, int* px, int* py) {
  const std::string pos = c.position;
  const int right = c.width - kMarkW, bottom = c.height - kMarkH;
  *px = (pos == "top-right" || pos == "bottom-right") ? right : 0;
  *py = (pos == "bottom-left" || pos == "bottom-right") ? bottom : 0;
  if (pos == "center") {
    *px = right / 2;
    *py = bottom / 2;
  }
  *px += c.x;
  *py += c.y;
}

class WatermarkPixels : public ::testing::TestWithParam<std::tuple<GstVideoFormat, Case>> {};

TEST_P(WatermarkPixels, MatchesReference) {
  const GstVideoFormat format = std::get<0>(GetParam());
  const Case& c = std::get<1>(GetParam());
  relais::test::TempDir dir;
  const wmtest::Mark mark = wmtest::make_mark(kMarkW, kMarkH, 7);
  ASSERT_TRUE(wmtest::save_png(mark, dir.file("mark.png")));

  std::ostringstream props;
  props << "location=" << dir.file("mark.png") << " position=" << c.position << " x=" << c.x
        << " y=" << c.y << " opacity=" << c.opacity;
  const std::string caps = wmtest::caps_for(format, c.width, c.height);
  wmtest::HarnessPtr h = wmtest::make_harness(props.str(), caps);
  ASSERT_TRUE(h);
  GstVideoInfo info;
  GstCaps* parsed = gst_caps_from_string(caps.c_str());
  ASSERT_TRUE(gst_video_info_from_caps(&info, parsed));
  gst_caps_unref(parsed);

  int px, py;
  expected_origin(c, &px, &py);
  for (unsigned seed : {11u, 12u}) {
    GstBuffer* input = wmtest::make_frame(info, seed);
    BufferPtr original(gst_buffer_copy_deep(input));
    ASSERT_EQ(gst_harness_push(h.get(), input), GST_FLOW_OK);
    BufferPtr output(gst_harness_pull(h.get()));
    ASSERT_TRUE(output);
    wmtest::expect_matches_reference(info, original.get(), output.get(), mark, px, py, c.opacity);
  }
}

class WatermarkOpacityZero : public ::testing::TestWithParam<GstVideoFormat> {};

// Opacity 0: the frame comes out as it went in (the very same buffer).
TEST_P(WatermarkOpacityZero, LeavesFrameUntouched) {
  const GstVideoFormat format = GetParam();
  const Case& c = kCases[0];
  relais::test::TempDir dir;
  ASSERT_TRUE(wmtest::save_png(wmtest::make_mark(kMarkW, kMarkH, 7), dir.file("mark.png")));
  std::ostringstream props;
  props << "location=" << dir.file("mark.png") << " position=" << c.position << " x=" << c.x
        << " y=" << c.y << " opacity=0";
  const std::string caps = wmtest::caps_for(format, c.width, c.height);
  wmtest::HarnessPtr h = wmtest::make_harness(props.str(), caps);
  ASSERT_TRUE(h);
  GstVideoInfo info;
  GstCaps* parsed = gst_caps_from_string(caps.c_str());
  ASSERT_TRUE(gst_video_info_from_caps(&info, parsed));
  gst_caps_unref(parsed);

  GstBuffer* input = wmtest::make_frame(info, 5);
  BufferPtr original(gst_buffer_copy_deep(input));
  ASSERT_EQ(gst_harness_push(h.get(), input), GST_FLOW_OK);
  BufferPtr output(gst_harness_pull(h.get()));
  ASSERT_TRUE(output);
  EXPECT_EQ(output.get(), input);
  GstMapInfo a, b;
  ASSERT_TRUE(gst_buffer_map(output.get(), &a, GST_MAP_READ));
  ASSERT_TRUE(gst_buffer_map(original.get(), &b, GST_MAP_READ));
  ASSERT_EQ(a.size, b.size);
  EXPECT_EQ(memcmp(a.data, b.data, a.size), 0);
  gst_buffer_unmap(original.get(), &b);
  gst_buffer_unmap(output.get(), &a);
}

std::string case_name(const ::testing::TestParamInfo<WatermarkPixels::ParamType>& p) {
  return std::string(gst_video_format_to_string(std::get<0>(p.param))) + "_" +
         std::get<1>(p.param).name;
}

INSTANTIATE_TEST_SUITE_P(AllFormats, WatermarkPixels,
                         ::testing::Combine(::testing::ValuesIn(kFormats),
                                            ::testing::ValuesIn(kCases)),
                         case_name);

INSTANTIATE_TEST_SUITE_P(AllFormats, WatermarkOpacityZero, ::testing::ValuesIn(kFormats),
                         [](const ::testing::TestParamInfo<GstVideoFormat>& p) {
                           return std::string(gst_video_format_to_string(p.param));
                         });

}  // namespace
