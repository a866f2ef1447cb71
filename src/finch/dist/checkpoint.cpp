#include "finch/dist/checkpoint.h"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "finch/io/checkpoint_dir.h"

namespace fs = std::filesystem;

namespace finch::dist {

void write_checkpoint_together(const World& world, const fs::path& dir, int64_t serial,
                               const std::function<void(const fs::path&)>& every_rank,
                               const std::function<void(const fs::path&)>& main_only) {
  if (!world.distributed()) {
    io::write_checkpoint_dir(dir, [&](const fs::path& tmp) {
      every_rank(tmp);
      main_only(tmp);
    });
    return;
  }
  const std::string key = fmt::format("finch/checkpoint/{}/folder", serial);
  if (world.is_main()) {
    io::write_checkpoint_dir(dir, [&](const fs::path& tmp) {
      const std::string path = fs::absolute(tmp).string();
      world.store()->set(key, std::vector<uint8_t>(path.begin(), path.end()));
      every_rank(tmp);
      main_only(tmp);
      world.barrier();  // every rank's files are written
    });
  } else {
    const auto path = world.store()->get(key);
    every_rank(fs::path(std::string(path.begin(), path.end())));
    world.barrier();
  }
  world.barrier();  // the folder is complete: no rank goes on (or reads it) before
}

}  // namespace finch::dist
