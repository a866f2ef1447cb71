// A thin libcurl wrapper for the Hub client: one request at a time, redirects
// never followed by curl (the caller decides which to follow and whether the
// token may go along), response headers kept, bodies in memory or streamed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace finch::io::http {

struct Response {
  long status = 0;                            // 0 when no HTTP response arrived
  std::map<std::string, std::string> headers;  // names lower-cased; last value wins
  std::string body;                           // when no sink was given
  std::string transport_error;                // non-empty: the connection failed or dropped
  int64_t body_bytes = 0;                     // bytes delivered (to `body` or the sink)

  const std::string* header(const std::string& lower_name) const;
  bool ok() const { return transport_error.empty() && status >= 200 && status < 300; }
  bool is_redirect() const { return transport_error.empty() && status >= 300 && status < 400 && header("location"); }
};

// 2xx body bytes as they arrive, with the status (200 or 206); return false to abort.
// Other statuses' bodies go to Response::body.
using Sink = std::function<bool(long status, const char* data, size_t size)>;

struct Request {
  std::string method = "GET";  // GET or HEAD
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  long timeout_s = 0;                // whole-transfer limit; 0: none (connect limit is always 10 s)
};

Response perform(const Request& request, const Sink& sink = nullptr);

// Percent-encodes everything but RFC 3986 unreserved characters and `safe`
// (Python's urllib.parse.quote with that `safe`).
std::string quote(std::string_view text, std::string_view safe = "/");

// `location` resolved against `base` (absolute URL, absolute path, or relative path).
std::string join_url(const std::string& base, const std::string& location);

// scheme://host:port of a URL, the port made explicit.
std::string origin(const std::string& url);

// The URL of rel="next" in a Link header, or "".
std::string next_link(const std::string& link_header);

}  // namespace finch::io::http
