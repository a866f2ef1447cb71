// Writes the scalars that tensorboard_read_check.py reads back with
// TensorBoard's own EventAccumulator (ctest: unit.train.tensorboard_*).
// The values are a formula both sides compute; keep the two in step.
#include <fstream>
#include <iostream>

#include "finch/train/event_writer.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: tensorboard_events_writer LOG_DIR\n";
    return 2;
  }
  std::filesystem::remove_all(argv[1]);
  std::filesystem::path file;
  {
    finch::train::EventWriter writer(argv[1]);
    file = writer.path();
    for (int step = 0; step < 10; ++step) {
      writer.scalar("train/loss", 1.0 / (step + 1) + 1e-9 * step, step);
      writer.scalar("train/learning_rate", 3e-4 * step / 7, step);
      if (step % 3 == 0) writer.scalar("eval/loss", -2.5 * step - 1e30 * (step == 9), step);
    }
  }
  // A record torn by a kill: the reader must keep what came before it.
  std::ofstream(file, std::ios::binary | std::ios::app).write("\x20\x00\x00\x00\x00", 5);
  return 0;
}
