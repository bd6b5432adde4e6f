#include "browser_driver.h"

#include "child_guard.h"

namespace relais::test {

DriverAnswer::DriverAnswer(const std::string& line) : raw_(line), parser_(json_parser_new()) {
  if (json_parser_load_from_data(parser_, line.c_str(), -1, nullptr)) {
    JsonNode* root = json_parser_get_root(parser_);
    if (root && JSON_NODE_HOLDS_OBJECT(root)) object_ = json_node_get_object(root);
  }
}

DriverAnswer::~DriverAnswer() {
  g_object_unref(parser_);
}

std::string DriverAnswer::str(const char* member) const {
  if (!object_ || !json_object_has_member(object_, member)) return "";
  JsonNode* n = json_object_get_member(object_, member);
  if (json_node_get_value_type(n) != G_TYPE_STRING) return "";
  return json_node_get_string(n);
}

int64_t DriverAnswer::num(const char* member) const {
  if (!object_ || !json_object_has_member(object_, member)) return -1;
  JsonNode* n = json_object_get_member(object_, member);
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_INT64) return json_node_get_int(n);
  if (t == G_TYPE_DOUBLE) return static_cast<int64_t>(json_node_get_double(n));
  return -1;
}

bool DriverAnswer::flag(const char* member) const {
  if (!object_ || !json_object_has_member(object_, member)) return false;
  JsonNode* n = json_object_get_member(object_, member);
  return json_node_get_value_type(n) == G_TYPE_BOOLEAN && json_node_get_boolean(n);
}

std::vector<std::string> DriverAnswer::strings(const char* member) const {
  std::vector<std::string> out;
  if (!object_ || !json_object_has_member(object_, member)) return out;
  JsonNode* n = json_object_get_member(object_, member);
  if (!JSON_NODE_HOLDS_ARRAY(n)) return out;
  JsonArray* a = json_node_get_array(n);
  for (guint i = 0; i < json_array_get_length(a); ++i) {
    const char* s = json_array_get_string_element(a, i);
    out.emplace_back(s ? s : "");
  }
  return out;
}

BrowserDriver::~BrowserDriver() {
  quit();
}

bool BrowserDriver::start(const std::string& log_path, std::string* error) {
  const char* src = g_getenv("RELAIS_SOURCE_DIR");
  std::string script = std::string(src ? src : ".") + "/tests/webrtc/browser_driver.mjs";
  GSubprocessLauncher* launcher = test_launcher(static_cast<GSubprocessFlags>(
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE));
  g_subprocess_launcher_set_stderr_file_path(launcher, log_path.c_str());
  GError* err = nullptr;
  proc_ = g_subprocess_launcher_spawn(launcher, &err, "node", script.c_str(), nullptr);
  g_object_unref(launcher);
  if (!proc_) {
    if (error) *error = err ? err->message : "could not start node";
    g_clear_error(&err);
    return false;
  }
  out_ = g_data_input_stream_new(g_subprocess_get_stdout_pipe(proc_));
  return true;
}

std::string BrowserDriver::command(const std::string& line) {
  if (!proc_) return "";
  std::string text = line + "\n";
  GOutputStream* in = g_subprocess_get_stdin_pipe(proc_);
  if (!g_output_stream_write_all(in, text.data(), text.size(), nullptr, nullptr, nullptr) ||
      !g_output_stream_flush(in, nullptr, nullptr))
    return "";
  gsize len = 0;
  gchar* answer = g_data_input_stream_read_line_utf8(out_, &len, nullptr, nullptr);
  std::string result = answer ? answer : "";
  g_free(answer);
  return result;
}

void BrowserDriver::quit() {
  if (!proc_) return;
  GOutputStream* in = g_subprocess_get_stdin_pipe(proc_);
  static const char kQuit[] = "quit\n";
  g_output_stream_write_all(in, kQuit, sizeof kQuit - 1, nullptr, nullptr, nullptr);
  g_output_stream_close(in, nullptr, nullptr);
  // The driver closes Chromium itself; it gets a few seconds before SIGKILL.
  // GSubprocess reaps the child on GLib's worker thread; no identifier = exited.
  gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  while (g_subprocess_get_identifier(proc_) && g_get_monotonic_time() < end) g_usleep(20000);
  if (g_subprocess_get_identifier(proc_)) {
    g_subprocess_force_exit(proc_);
    g_subprocess_wait(proc_, nullptr, nullptr);
  }
  g_clear_object(&out_);
  g_clear_object(&proc_);
}

}  // namespace relais::test
