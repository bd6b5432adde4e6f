#include "s3rver.h"

#include <gtest/gtest.h>

#include <glib.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <random>

#include "s3_xml.h"
#include "sigv4.h"

namespace relais::test {

std::unique_ptr<S3rver> S3rver::start_for_suite(const std::string& bucket) {
  auto server = std::make_unique<S3rver>();
  std::string error;
  if (!server->start(bucket, &error)) {
    ADD_FAILURE() << error;
    return nullptr;
  }
  return server;
}

bool S3rver::start(const std::string& bucket, std::string* error) {
  const char* src = g_getenv("RELAIS_SOURCE_DIR");
  std::string bin = std::string(src ? src : ".") + "/tests/node/node_modules/.bin/s3rver";
  if (!g_file_test(bin.c_str(), G_FILE_TEST_IS_EXECUTABLE)) {
    *error = bin + " is missing: run 'bash .ci/deps.sh' (or make deps)";
    return false;
  }
  port_ = free_loopback_port();
  if (!process_.start({bin, "-d", dir_.file("data"), "-a", "127.0.0.1", "-p", std::to_string(port_),
                       "--service-endpoint", "localhost", "--configure-bucket", bucket},
                      dir_.file("s3rver.log"), error))
    return false;
  if (!wait_for_port(port_, 15000)) {
    *error = "s3rver did not listen on port " + std::to_string(port_);
    return false;
  }
  return true;
}

HttpResult http_get(const std::string& url) {
  HttpResult out;
  SoupSession* session = soup_session_new();
  SoupMessage* msg = soup_message_new("GET", url.c_str());
  if (!msg) {
    g_object_unref(session);
    return out;
  }
  GError* err = nullptr;
  GBytes* body = soup_session_send_and_read(session, msg, nullptr, &err);
  if (body) {
    out.status = soup_message_get_status(msg);
    const char* ct =
        soup_message_headers_get_one(soup_message_get_response_headers(msg), "Content-Type");
    out.content_type = ct ? ct : "";
    gsize size = 0;
    const char* data = static_cast<const char*>(g_bytes_get_data(body, &size));
    out.body.assign(data ? data : "", size);
    g_bytes_unref(body);
  }
  g_clear_error(&err);
  g_object_unref(msg);
  g_object_unref(session);
  return out;
}

std::vector<std::string> list_keys(const std::string& endpoint, const std::string& bucket,
                                   const std::string& prefix) {
  HttpResult r = http_get(endpoint + "/" + bucket +
                          "?list-type=2&prefix=" + relais::s3::sigv4::uri_encode(prefix, true));
  std::vector<std::string> keys;
  std::string_view doc = r.body;
  size_t pos = 0;
  while ((pos = doc.find("<Contents>", pos)) != std::string_view::npos) {
    size_t end = doc.find("</Contents>", pos);
    if (end == std::string_view::npos) break;
    auto key = relais::s3::xml_text(doc.substr(pos, end - pos), "Key");
    if (key) keys.push_back(*key);
    pos = end;
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::string test_bytes(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (size_t i = 0; i < size; i += 4) {
    uint32_t v = rng();
    for (size_t j = 0; j < 4 && i + j < size; ++j) out[i + j] = static_cast<char>(v >> (8 * j));
  }
  return out;
}

}  // namespace relais::test
