// libcurl behind io/http.h. Curl is initialised once per process; each request
// gets its own easy handle (the Hub client makes few, large requests).
#include "finch/io/http.h"

#include <curl/curl.h>

#include <cctype>
#include <mutex>

namespace finch::io::http {
namespace {

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  Response* response;
  const Sink* sink;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {  // a new response (after a 100 Continue): start over
    transfer->response->headers.clear();
    return size * count;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(line.substr(0, colon));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
  transfer->response->headers[name] = std::string(value);
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = size * count;
  // Only 2xx bodies are streamed; error bodies are kept (capped) for messages.
  if (*transfer->sink && transfer->response->status >= 200 && transfer->response->status < 300) {
    if (!(*transfer->sink)(transfer->response->status, data, n)) return 0;  // aborts with CURLE_WRITE_ERROR
  } else if (transfer->response->body.size() < (1 << 20)) {
    transfer->response->body.append(data, n);
  }
  transfer->response->body_bytes += static_cast<int64_t>(n);
  return n;
}

}  // namespace

const std::string* Response::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? nullptr : &it->second;
}

Response perform(const Request& request, const Sink& sink) {
  init_curl_once();
  Response response;
  CURL* curl = curl_easy_init();
  if (!curl) {
    response.transport_error = "curl_easy_init failed";
    return response;
  }
  Transfer transfer{&response, &sink};
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  if (request.timeout_s > 0) curl_easy_setopt(curl, CURLOPT_TIMEOUT, request.timeout_s);
  // A stalled transfer (no byte for 60 s) is a dropped connection.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);

  // The body callback needs the status to route bytes: take it from the status line.
  struct StatusHook {
    static size_t header(char* data, size_t size, size_t count, void* user) {
      auto* t = static_cast<Transfer*>(user);
      std::string_view line(data, size * count);
      if (line.starts_with("HTTP/")) {
        auto space = line.find(' ');
        if (space != std::string_view::npos) t->response->status = std::strtol(line.data() + space + 1, nullptr, 10);
      }
      return on_header(data, size, count, user);
    }
  };
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, StatusHook::header);

  CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (status != 0) response.status = status;
  if (code != CURLE_OK) {
    response.transport_error = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return response;
}

std::string quote(std::string_view text, std::string_view safe) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || safe.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string origin(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "";
  std::string scheme = url.substr(0, scheme_end);
  auto host_start = scheme_end + 3;
  auto host_end = url.find_first_of("/?#", host_start);
  std::string host = url.substr(host_start, host_end == std::string::npos ? std::string::npos : host_end - host_start);
  auto at = host.rfind('@');
  if (at != std::string::npos) host = host.substr(at + 1);
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (host.find(':') == std::string::npos || host.back() == ']') host += scheme == "https" ? ":443" : ":80";
  return scheme + "://" + host;
}

std::string join_url(const std::string& base, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  auto scheme_end = base.find("://");
  auto path_start = base.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  std::string root = path_start == std::string::npos ? base : base.substr(0, path_start);
  if (location.starts_with("//")) return base.substr(0, scheme_end + 1) + location;
  if (location.starts_with("/")) return root + location;
  std::string path = path_start == std::string::npos ? "/" : base.substr(path_start);
  path = path.substr(0, path.find_first_of("?#"));
  return root + path.substr(0, path.rfind('/') + 1) + location;
}

std::string next_link(const std::string& link_header) {
  // <https://...>; rel="next", <...>; rel="prev"
  size_t pos = 0;
  while (pos < link_header.size()) {
    auto open = link_header.find('<', pos);
    if (open == std::string::npos) break;
    auto close = link_header.find('>', open);
    if (close == std::string::npos) break;
    auto end = link_header.find(',', close);
    std::string params = link_header.substr(close + 1, end == std::string::npos ? std::string::npos : end - close - 1);
    if (params.find("rel=\"next\"") != std::string::npos || params.find("rel=next") != std::string::npos)
      return link_header.substr(open + 1, close - open - 1);
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return "";
}

}  // namespace finch::io::http
