#include "daemon/commit_notice.h"

#include <gtest/gtest.h>

namespace xrayd {
namespace {

TEST(CommitNotice, ParsesPairs) {
  auto pairs = parse_commit_notice(R"([["shop", "e1"], ["a\"b", "é"]])");
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0], (std::pair<std::string, std::string>{"shop", "e1"}));
  EXPECT_EQ(pairs[1], (std::pair<std::string, std::string>{"a\"b", "é"}));
}

TEST(CommitNotice, IgnoresForeignPayloads) {
  for (const char* payload : {"", "hello", "{}", R"([["a"]])", R"([["a", 1]])", R"([1])"}) {
    EXPECT_TRUE(parse_commit_notice(payload).empty()) << payload;
  }
}

TEST(CommitNotice, StatementNotifiesTheChannelBeforeCommit) {
  EXPECT_NE(commit_notice_sql().find("pg_notify('xray_executions'"), std::string::npos);
  EXPECT_NE(commit_notice_sql().find("xray_stage_winners"), std::string::npos);
}

}  // namespace
}  // namespace xrayd
