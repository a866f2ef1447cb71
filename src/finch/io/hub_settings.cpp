// Hub settings from the environment, read as huggingface_hub's constants.py
// and utils/_auth.py read them (see hub.h).
#include <cstdlib>

#include "finch/core/files.h"
#include "finch/io/hub.h"

namespace fs = std::filesystem;

namespace finch::io::hub {
namespace {

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

fs::path expand_user(const std::string& path) {
  if (path.starts_with("~")) {
    auto home = env("HOME");
    if (home) return fs::path(*home + path.substr(1));
  }
  return fs::path(path);
}

bool is_true(const std::optional<std::string>& value) {
  if (!value) return false;
  std::string v = *value;
  for (auto& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return v == "1" || v == "ON" || v == "YES" || v == "TRUE";
}

// _clean_token: drop CR/LF, strip spaces; empty is no token.
std::optional<std::string> clean_token(std::string token) {
  std::erase(token, '\r');
  std::erase(token, '\n');
  auto start = token.find_first_not_of(" \t\f\v");
  if (start == std::string::npos) return std::nullopt;
  auto end = token.find_last_not_of(" \t\f\v");
  return token.substr(start, end - start + 1);
}

}  // namespace

Settings Settings::from_environment() {
  Settings s;
  if (auto e = env("HF_ENDPOINT")) {
    s.endpoint = *e;
    while (s.endpoint.ends_with("/")) s.endpoint.pop_back();
  }
  fs::path home;
  if (auto h = env("HF_HOME")) home = expand_user(*h);
  else if (auto x = env("XDG_CACHE_HOME")) home = expand_user(*x) / "huggingface";
  else home = expand_user("~/.cache") / "huggingface";
  if (auto c = env("HF_HUB_CACHE")) s.hub_cache = expand_user(*c);
  else if (auto c2 = env("HUGGINGFACE_HUB_CACHE")) s.hub_cache = expand_user(*c2);
  else s.hub_cache = home / "hub";
  auto token = env("HF_TOKEN");
  if (token) s.token_source = "HF_TOKEN";
  else if ((token = env("HUGGING_FACE_HUB_TOKEN"))) s.token_source = "HUGGING_FACE_HUB_TOKEN";
  if (token) s.token = clean_token(*token);
  if (!s.token) {
    fs::path file = env("HF_TOKEN_PATH") ? expand_user(*env("HF_TOKEN_PATH")) : home / "token";
    std::error_code ec;
    if (fs::is_regular_file(file, ec)) {
      s.token = clean_token(read_text_file(file));
      s.token_source = file.string();
    }
  }
  auto offline = env("HF_HUB_OFFLINE");
  s.offline = is_true(offline ? offline : env("TRANSFORMERS_OFFLINE"));
  return s;
}

}  // namespace finch::io::hub
