/**
 * SECTION:element-relaiswatermark
 *
 * Blends an image (PNG or JPEG, with or without alpha) and/or a line of text
 * onto every video frame, in place, at a corner or the centre plus an offset,
 * with an opacity. The mark is loaded and rendered once, converted once into
 * the negotiated format, and only the pixels under it are touched; with
 * nothing to draw the element is in passthrough and buffers go through
 * untouched. Every property may change while PLAYING.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=60 ! relaiswatermark text="Lobby" \
 *   position=bottom-right x=-8 y=-8 ! videoconvert ! jpegenc ! multifilesink location=wm-%03d.jpg
 * ]|
 * A logo with a transparent background, then the logo and a caption on top:
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=1 pattern=ball background-color=0x00000000 ! \
 *   video/x-raw,format=RGBA,width=128,height=64 ! pngenc ! filesink location=logo.png
 * gst-launch-1.0 videotestsrc num-buffers=60 ! video/x-raw,width=640,height=360 ! \
 *   relaiswatermark location=logo.png text="Lobby" position=top-right x=-10 y=10 opacity=0.8 ! \
 *   videoconvert ! jpegenc ! multifilesink location=logo-%03d.jpg
 * ]|
 */
#include "relaiswatermark.h"

#include <exception>
#include <string>

#include "elements.h"
#include "gst_handles.h"
#include "watermark/blend.h"
#include "watermark/mark_image.h"
#include "watermark/mark_layout.h"
#include "watermark/mark_text.h"
#include "watermark/prepared_mark.h"

GST_DEBUG_CATEGORY_STATIC(relais_watermark_debug);
#define GST_CAT_DEFAULT relais_watermark_debug

namespace {

namespace wm = relais::watermark;

constexpr const char* DEFAULT_FONT_DESC = "Sans 20";
constexpr guint DEFAULT_COLOR = 0xffffffff;
constexpr wm::Position DEFAULT_POSITION = wm::Position::kBottomRight;
constexpr gint DEFAULT_X = 0;
constexpr gint DEFAULT_Y = 0;
constexpr gdouble DEFAULT_OPACITY = 1.0;

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_TEXT,
  PROP_FONT_DESC,
  PROP_COLOR,
  PROP_POSITION,
  PROP_X,
  PROP_Y,
  PROP_OPACITY
};

struct Settings {
  std::string location;
  guint64 location_serial = 0;  // bumped on every set: setting the same path reloads the file
  std::string text;
  std::string font_desc = DEFAULT_FONT_DESC;
  guint color = DEFAULT_COLOR;
  wm::Position position = DEFAULT_POSITION;
  gint x = DEFAULT_X;
  gint y = DEFAULT_Y;
  gdouble opacity = DEFAULT_OPACITY;
};

struct Private {
  // Guarded by the object lock.
  Settings settings;
  guint64 generation = 1;  // bumped by every property change

  // Streaming thread only (and start/stop, which never run alongside it).
  guint64 applied_generation = 0;  // 0: nothing applied yet
  Settings applied;                // what image, text and mark were built from
  bool have_image_and_text = false;
  bool failed = false;  // the current settings could not be applied; an error was posted
  wm::RgbaImage image;
  wm::RgbaImage text;
  wm::RgbaImage mark;  // image and text stacked
  GstVideoInfo info{};
  bool have_info = false;
  bool info_changed = false;
  wm::PreparedMark prepared;  // mark in the negotiated format at its place; empty: passthrough
};

}  // namespace

struct _RelaisWatermark {
  GstVideoFilter parent;
  Private* priv;
};

G_DEFINE_TYPE(RelaisWatermark, relais_watermark, GST_TYPE_VIDEO_FILTER)
GST_ELEMENT_REGISTER_DEFINE(relaiswatermark, "relaiswatermark", GST_RANK_NONE,
                            RELAIS_TYPE_WATERMARK)

#define WATERMARK_CAPS                                                       \
  GST_VIDEO_CAPS_MAKE(                                                       \
      "{ I420, YV12, NV12, NV21, Y42B, Y444, RGBA, BGRA, ARGB, ABGR, RGBx, " \
      "BGRx, xRGB, xBGR, RGB, BGR, GRAY8 }")

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(WATERMARK_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(WATERMARK_CAPS));

GType relais_watermark_position_get_type(void) {
  static gsize type_id = 0;
  if (g_once_init_enter(&type_id)) {
    static const GEnumValue values[] = {
        {static_cast<gint>(wm::Position::kTopLeft), "Top left corner", "top-left"},
        {static_cast<gint>(wm::Position::kTopRight), "Top right corner", "top-right"},
        {static_cast<gint>(wm::Position::kBottomLeft), "Bottom left corner", "bottom-left"},
        {static_cast<gint>(wm::Position::kBottomRight), "Bottom right corner", "bottom-right"},
        {static_cast<gint>(wm::Position::kCenter), "Centre of the frame", "center"},
        {0, nullptr, nullptr}};
    g_once_init_leave(&type_id, g_enum_register_static("RelaisWatermarkPosition", values));
  }
  return type_id;
}

// Loads the image if its location changed; posts an element error on failure.
static bool update_image(RelaisWatermark* self, const Settings& s) {
  Private* priv = self->priv;
  if (s.location.empty()) {
    priv->image = {};
    return true;
  }
  std::string reason;
  wm::RgbaImage image;
  if (!wm::load_image(s.location, &image, &reason)) {
    if (!g_file_test(s.location.c_str(), G_FILE_TEST_EXISTS)) {
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                        ("Watermark image '%s' does not exist.", s.location.c_str()),
                        ("%s", reason.c_str()));
    } else {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ,
                        ("Could not read watermark image '%s': it must be a readable PNG or JPEG "
                         "file.",
                         s.location.c_str()),
                        ("%s", reason.c_str()));
    }
    return false;
  }
  GST_INFO_OBJECT(self, "loaded %s (%dx%d)", s.location.c_str(), image.width, image.height);
  priv->image = std::move(image);
  return true;
}

// Renders the text if it, its font or its colour changed; posts an element error on failure.
static bool update_text(RelaisWatermark* self, const Settings& s) {
  Private* priv = self->priv;
  if (s.text.empty()) {
    priv->text = {};
    return true;
  }
  std::string reason;
  wm::RgbaImage text;
  if (!wm::render_text(s.text, s.font_desc, s.color, &text, &reason)) {
    GST_ELEMENT_ERROR(self, LIBRARY, FAILED,
                      ("Could not render watermark text '%s' with font '%s': %s.", s.text.c_str(),
                       s.font_desc.c_str(), reason.c_str()),
                      ("render_text failed"));
    return false;
  }
  GST_INFO_OBJECT(self, "rendered text '%s' (%dx%d)", s.text.c_str(), text.width, text.height);
  priv->text = std::move(text);
  return true;
}

// Brings image, text, mark and prepared mark up to date with the properties
// and caps. Streaming thread (or start()). File I/O and rendering happen here,
// outside the object lock. Returns false when an error was posted.
static bool apply_settings(RelaisWatermark* self) {
  Private* priv = self->priv;
  Settings s;
  guint64 generation;
  {
    relais::ObjectLock lock(self);
    if (priv->generation == priv->applied_generation && !priv->info_changed) return !priv->failed;
    s = priv->settings;
    generation = priv->generation;
  }
  const Settings& old = priv->applied;
  const bool first = !priv->have_image_and_text;
  const bool image_changed =
      first || s.location != old.location || s.location_serial != old.location_serial;
  const bool text_changed =
      first || s.text != old.text || s.font_desc != old.font_desc || s.color != old.color;

  priv->applied_generation = generation;
  priv->info_changed = false;
  priv->failed = false;
  if ((image_changed && !update_image(self, s)) || (text_changed && !update_text(self, s))) {
    // Draw nothing until a property changes; that change reloads everything.
    priv->have_image_and_text = false;
    priv->prepared = {};
    priv->failed = true;
    return false;
  }
  if (image_changed || text_changed || s.position != old.position)
    priv->mark = wm::stack_mark(priv->image, priv->text, s.position);
  priv->applied = s;
  priv->have_image_and_text = true;

  priv->prepared = {};
  if (priv->have_info && !priv->mark.empty()) {
    const wm::Point at = wm::place_mark(s.position, GST_VIDEO_INFO_WIDTH(&priv->info),
                                        GST_VIDEO_INFO_HEIGHT(&priv->info), priv->mark.width,
                                        priv->mark.height, s.x, s.y);
    priv->prepared = wm::prepare_mark(priv->mark, at, s.opacity, priv->info);
    GST_DEBUG_OBJECT(self, "mark %dx%d at %d,%d opacity %.3f: %zu planes", priv->mark.width,
                     priv->mark.height, at.x, at.y, s.opacity, priv->prepared.planes.size());
  }
  return true;
}

// apply_settings() at a callback boundary: no exception (an allocation
// failure for a huge mark) may cross into GStreamer.
static bool apply_settings_guarded(RelaisWatermark* self) {
  try {
    return apply_settings(self);
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, FAILED,
                      ("Could not prepare the watermark: %s. Is the image very large?", e.what()),
                      (nullptr));
    self->priv->prepared = {};
    self->priv->have_image_and_text = false;
    self->priv->failed = true;
    return false;
  }
}

static void relais_watermark_set_property(GObject* object, guint prop_id, const GValue* value,
                                          GParamSpec* pspec) {
  auto* self = RELAIS_WATERMARK(object);
  relais::ObjectLock lock(self);
  Settings& s = self->priv->settings;
  switch (prop_id) {
    case PROP_LOCATION:
      s.location = g_value_get_string(value) ? g_value_get_string(value) : "";
      s.location_serial++;
      break;
    case PROP_TEXT:
      s.text = g_value_get_string(value) ? g_value_get_string(value) : "";
      break;
    case PROP_FONT_DESC:
      s.font_desc = g_value_get_string(value) ? g_value_get_string(value) : DEFAULT_FONT_DESC;
      break;
    case PROP_COLOR:
      s.color = g_value_get_uint(value);
      break;
    case PROP_POSITION:
      s.position = static_cast<wm::Position>(g_value_get_enum(value));
      break;
    case PROP_X:
      s.x = g_value_get_int(value);
      break;
    case PROP_Y:
      s.y = g_value_get_int(value);
      break;
    case PROP_OPACITY:
      s.opacity = g_value_get_double(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      return;
  }
  self->priv->generation++;
}

static void relais_watermark_get_property(GObject* object, guint prop_id, GValue* value,
                                          GParamSpec* pspec) {
  auto* self = RELAIS_WATERMARK(object);
  relais::ObjectLock lock(self);
  const Settings& s = self->priv->settings;
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string(value, s.location.empty() ? nullptr : s.location.c_str());
      break;
    case PROP_TEXT:
      g_value_set_string(value, s.text.empty() ? nullptr : s.text.c_str());
      break;
    case PROP_FONT_DESC:
      g_value_set_string(value, s.font_desc.c_str());
      break;
    case PROP_COLOR:
      g_value_set_uint(value, s.color);
      break;
    case PROP_POSITION:
      g_value_set_enum(value, static_cast<gint>(s.position));
      break;
    case PROP_X:
      g_value_set_int(value, s.x);
      break;
    case PROP_Y:
      g_value_set_int(value, s.y);
      break;
    case PROP_OPACITY:
      g_value_set_double(value, s.opacity);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void reset_streaming_state(Private* priv) {
  priv->applied_generation = 0;
  priv->applied = Settings();
  priv->have_image_and_text = false;
  priv->failed = false;
  priv->image = {};
  priv->text = {};
  priv->mark = {};
  priv->have_info = false;
  priv->info_changed = false;
  priv->prepared = {};
}

// Loads the image and renders the text before any buffer flows, so a missing
// file fails the state change with a clear error.
static gboolean relais_watermark_start(GstBaseTransform* trans) {
  auto* self = RELAIS_WATERMARK(trans);
  reset_streaming_state(self->priv);
  return apply_settings_guarded(self) ? TRUE : FALSE;
}

static gboolean relais_watermark_stop(GstBaseTransform* trans) {
  reset_streaming_state(RELAIS_WATERMARK(trans)->priv);
  return TRUE;
}

static gboolean relais_watermark_set_info(GstVideoFilter* filter, GstCaps*, GstVideoInfo* in_info,
                                          GstCaps*, GstVideoInfo*) {
  Private* priv = RELAIS_WATERMARK(filter)->priv;
  if (!relais::watermark::format_supported(GST_VIDEO_INFO_FORMAT(in_info))) return FALSE;
  priv->info = *in_info;
  priv->have_info = true;
  priv->info_changed = true;
  return TRUE;
}

// Runs for every buffer, before the base class decides whether it needs a
// writable buffer: with nothing to draw, the buffer passes through untouched.
static void relais_watermark_before_transform(GstBaseTransform* trans, GstBuffer*) {
  auto* self = RELAIS_WATERMARK(trans);
  apply_settings_guarded(self);
  Private* priv = self->priv;
  gst_base_transform_set_passthrough(trans, priv->prepared.empty() && !priv->failed);
}

static GstFlowReturn relais_watermark_transform_frame_ip(GstVideoFilter* filter,
                                                         GstVideoFrame* frame) {
  Private* priv = RELAIS_WATERMARK(filter)->priv;
  if (priv->failed) return GST_FLOW_ERROR;  // the error is already on the bus
  if (!priv->prepared.empty()) relais::watermark::blend_mark(priv->prepared, frame);
  return GST_FLOW_OK;
}

static void relais_watermark_finalize(GObject* object) {
  delete RELAIS_WATERMARK(object)->priv;
  G_OBJECT_CLASS(relais_watermark_parent_class)->finalize(object);
}

static void relais_watermark_class_init(RelaisWatermarkClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  GstVideoFilterClass* filter_class = GST_VIDEO_FILTER_CLASS(klass);

  gobject_class->set_property = relais_watermark_set_property;
  gobject_class->get_property = relais_watermark_get_property;
  gobject_class->finalize = relais_watermark_finalize;

  constexpr auto rw_playing = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                       GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Image location",
                          "Path of a PNG or JPEG image to blend (its alpha channel is honoured); "
                          "unset: no image. A missing or unreadable file is an element error",
                          nullptr, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_TEXT,
      g_param_spec_string("text", "Text",
                          "Text to blend, rendered once (below the image when both are set); "
                          "unset: no text",
                          nullptr, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_FONT_DESC,
      g_param_spec_string("font-desc", "Font description",
                          "Pango font description of the text, e.g. \"Sans Bold 24\"",
                          DEFAULT_FONT_DESC, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_COLOR,
      g_param_spec_uint("color", "Text colour",
                        "Colour of the text as 0xAARRGGBB (it gets a dark outline)", 0, G_MAXUINT32,
                        DEFAULT_COLOR, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_POSITION,
      g_param_spec_enum("position", "Position",
                        "Corner or centre of the frame the mark is placed at, before the x/y "
                        "offsets",
                        RELAIS_TYPE_WATERMARK_POSITION, static_cast<gint>(DEFAULT_POSITION),
                        rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_X,
      g_param_spec_int("x", "X offset",
                       "Pixels added to the mark's horizontal position (positive: right). Parts "
                       "outside the frame are clipped",
                       G_MININT, G_MAXINT, DEFAULT_X, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_Y,
      g_param_spec_int("y", "Y offset",
                       "Pixels added to the mark's vertical position (positive: down). Parts "
                       "outside the frame are clipped",
                       G_MININT, G_MAXINT, DEFAULT_Y, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_OPACITY,
      g_param_spec_double("opacity", "Opacity",
                          "Opacity of the mark, multiplied with its own alpha (0: invisible, "
                          "buffers pass through untouched)",
                          0.0, 1.0, DEFAULT_OPACITY, rw_playing));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Relais watermark", "Filter/Effect/Video",
      "Blends an image and/or text onto video, in place, touching only the pixels under it",
      "Relais authors");

  trans_class->start = relais_watermark_start;
  trans_class->stop = relais_watermark_stop;
  trans_class->before_transform = relais_watermark_before_transform;
  // In passthrough there is nothing to draw: don't even look at the buffer.
  trans_class->transform_ip_on_passthrough = FALSE;
  filter_class->set_info = relais_watermark_set_info;
  filter_class->transform_frame_ip = relais_watermark_transform_frame_ip;

  GST_DEBUG_CATEGORY_INIT(relais_watermark_debug, "relaiswatermark", 0, "Relais watermark");
}

static void relais_watermark_init(RelaisWatermark* self) {
  self->priv = new Private();
  gst_video_info_init(&self->priv->info);
}
