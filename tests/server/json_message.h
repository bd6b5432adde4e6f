// The "message" of a JSON error body, as every server error answers.
#pragma once

#include <string>

namespace relais::test {
// "" when the body is not a JSON object with a string "message".
std::string json_message(const std::string& body);
}  // namespace relais::test
