#include "finch/train/schedule.h"

#include "../test_util.h"

namespace finch::train {
namespace {

TEST(Schedule, UnknownTypeIsAOneLineError) {
  test::expect_error([] { Schedule{"polynomial", 2, 10}.multiplier(0); }, {"lr_scheduler_type 'polynomial'",
                                                                          "constant, linear or cosine"});
}

TEST(Schedule, WarmUpThenDecay) {
  const Schedule linear{"linear", 4, 12};
  EXPECT_EQ(linear.multiplier(0), 0.0);
  EXPECT_EQ(linear.multiplier(2), 0.5);
  EXPECT_EQ(linear.multiplier(4), 1.0);
  EXPECT_EQ(linear.multiplier(8), 0.5);
  EXPECT_EQ(linear.multiplier(12), 0.0);
  EXPECT_EQ(linear.multiplier(20), 0.0);
  const Schedule cosine{"cosine", 0, 10};
  EXPECT_EQ(cosine.multiplier(0), 1.0);
  EXPECT_NEAR(cosine.multiplier(5), 0.5, 1e-15);
  EXPECT_EQ(Schedule({"constant", 0, 10}).multiplier(9), 1.0);
}

}  // namespace
}  // namespace finch::train
