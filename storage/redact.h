// Masks credentials in text that people see (errors, warnings, element
// messages, logs, the server's API), so a URI can be quoted safely. In every
// URI found in the text (scheme://...), malformed or not:
// - the password of the user info becomes ***: rtsp://admin:***@host/path
//   (the user name stays, to tell which account failed);
// - the value of every query parameter whose name looks like a credential
//   (one containing pass, pwd, user, login, token, secret, key, auth, sig,
//   session or credential, or exactly pw, p or u; any case, %-escapes decoded)
//   becomes ***: ?channel=1&token=***.
// The URI ends at white space, a quote or <>. Anything else is left as it was.
#pragma once

#include <string>
#include <string_view>

namespace relais {

std::string redact_credentials(std::string_view text);

}  // namespace relais
