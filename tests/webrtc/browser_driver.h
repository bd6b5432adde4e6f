// Headless Chromium for tests, through browser_driver.mjs: one command line
// in, one JSON answer out, so a test can open several viewers and look at
// them between its own steps.
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include <string>
#include <vector>

namespace relais::test {

// One JSON answer of the driver. Missing members read as "" / -1 / false.
class DriverAnswer {
 public:
  explicit DriverAnswer(const std::string& line);
  DriverAnswer(const DriverAnswer&) = delete;
  DriverAnswer& operator=(const DriverAnswer&) = delete;
  ~DriverAnswer();
  std::string str(const char* member) const;
  int64_t num(const char* member) const;
  bool flag(const char* member) const;
  std::vector<std::string> strings(const char* member) const;
  const std::string& raw() const { return raw_; }

 private:
  std::string raw_;
  JsonParser* parser_ = nullptr;
  JsonObject* object_ = nullptr;  // owned by parser_
};

class BrowserDriver {
 public:
  BrowserDriver() = default;
  BrowserDriver(const BrowserDriver&) = delete;
  BrowserDriver& operator=(const BrowserDriver&) = delete;
  ~BrowserDriver();
  // Launches node with the driver script; Chromium's and the pages' console
  // output goes to `log_path`.
  bool start(const std::string& log_path, std::string* error);
  // Sends one command and returns the raw answer line ("" if the driver died).
  std::string command(const std::string& line);
  void quit();

 private:
  GSubprocess* proc_ = nullptr;
  GDataInputStream* out_ = nullptr;
};

}  // namespace relais::test
