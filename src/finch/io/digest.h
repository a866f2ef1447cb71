// SHA-256 of a file's bytes (Hub downloads, checkpoint manifests).
#pragma once

#include <filesystem>
#include <string>

namespace finch::io {

// Lower-case hex; an error naming the file when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace finch::io
